"""What differs in every answer of a cached page: stored as a placeholder, filled in for each request.

A page's CSP nonce and the visitor's CSRF token are in its HTML; a copy holds placeholders instead, and
each request that is served the copy gets its own values. The layout's personal parts (the account menu,
the cart link with its count, the flash messages: ``PERSONAL``) are placeholders too: a page rendered for
the cache (``rendering_shared``) shows ``personal(template)`` as a placeholder, and every answer of it, the
first as the copies, gets those partials as rendered for its own visitor. So one copy serves every reader,
signed in or not, and none sees another's name, cart, token or messages.

Rendering the personal parts reads the database (the signed-in user, the cart's count): they are kept too,
per visitor, under the same generation as the copies (``store.SharedCache.lookup``), so a reader whose
session and data have not changed since is served both from one Redis round trip (``Parts``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g, render_template
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from shopapp.core.security import csp_nonce

# The layout's partials that show the visitor's own things; each reads only the request (session, user, cart).
PERSONAL = ("_account_menu.html", "orders/_cart_link.html", "_flashes.html")
_RENDERING_SHARED = "shopapp.cache.rendering_shared"


def _rendered_csrf_token() -> str | None:
    return g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


# (placeholder, the value this request rendered, the value for a request served the copy)
_VALUES: tuple[tuple[bytes, Callable[[], str | None], Callable[[], str]], ...] = (
    (b"\x00csp-nonce\x00", csp_nonce, csp_nonce),
    (b"\x00csrf-token\x00", _rendered_csrf_token, generate_csrf),
)


def _placeholder(template: str) -> bytes:
    return f"\x00personal:{template}\x00".encode()


@contextmanager
def rendering_shared() -> Iterator[None]:
    """While the view renders a page for the cache: its personal parts are placeholders (not an error page
    rendered after the view raised, which is answered as it is)."""
    setattr(g, _RENDERING_SHARED, True)
    try:
        yield
    finally:
        setattr(g, _RENDERING_SHARED, False)


def personal(template: str) -> Markup:
    """A template global: one of ``PERSONAL``, rendered for this visitor unless the page is for the cache."""
    if template not in PERSONAL:
        raise ValueError(f"{template} is not a personal partial")
    if g.get(_RENDERING_SHARED):
        return Markup(_placeholder(template).decode())  # noqa: S704  a constant
    return Markup(render_template(template))  # noqa: S704  a template's output, escaped by Jinja


@dataclass(frozen=True)
class Parts:
    """One visitor's personal parts, rendered, their per-response values as placeholders: kept in Redis for
    the visitor's next pages (``encode``), with the signed-in user's id for the request log."""

    html: dict[str, bytes]
    user_id: int | None

    @classmethod
    def render(cls) -> Parts:
        """This request's visitor's parts (the user and the cart's count read from the database)."""
        html = {template: to_placeholders(render_template(template).encode()) for template in PERSONAL}
        return cls(html, current_user.id if current_user.is_authenticated else None)

    def encode(self) -> bytes:
        return json.dumps({"user_id": self.user_id, "html": {k: v.decode() for k, v in self.html.items()}}).encode()

    @classmethod
    def decode(cls, data: bytes) -> Parts:
        stored = json.loads(data)
        return cls({k: v.encode() for k, v in stored["html"].items()}, stored["user_id"])


def has_personal_parts(html: bytes) -> bool:
    return any(_placeholder(template) in html for template in PERSONAL)


def with_personal_parts(html: bytes, parts: Parts) -> bytes:
    """``html`` with each personal placeholder replaced by its part, then every per-response value filled in."""
    for template in PERSONAL:
        html = html.replace(_placeholder(template), parts.html[template])
    return from_placeholders(html)


def to_placeholders(html: bytes) -> bytes:
    for placeholder, rendered, _fresh in _VALUES:
        if value := rendered():
            html = html.replace(value.encode(), placeholder)
    return html


def from_placeholders(html: bytes) -> bytes:
    for placeholder, _rendered, fresh in _VALUES:
        if placeholder in html:
            html = html.replace(placeholder, fresh().encode())
    return html
