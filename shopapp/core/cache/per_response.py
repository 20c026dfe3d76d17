"""What differs in every answer of a cached page: stored as a placeholder, filled in for each request.

A page's CSP nonce and the visitor's CSRF token are in its HTML; a copy holds placeholders instead, and
each request that is served the copy gets its own values. The layout's personal parts (the account menu,
the cart link with its count, the flash messages: ``PERSONAL``) are placeholders too: a page rendered for
the cache (``rendering_shared``) shows ``personal(template)`` as a placeholder, and every answer of it, the
first as the copies, gets that partial rendered for its own visitor. So one copy serves every reader, signed
in or not, and none sees another's name, cart, token or messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app, g, render_template
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


def _placeholder(template: str) -> str:
    return f"\x00personal:{template}\x00"


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
        return Markup(_placeholder(template))  # noqa: S704  a constant
    return Markup(render_template(template))  # noqa: S704  a template's output, escaped by Jinja


def with_personal_parts(html: bytes) -> bytes:
    """``html`` with each personal placeholder replaced by its partial, rendered for this request's visitor."""
    for template in PERSONAL:
        placeholder = _placeholder(template).encode()
        if placeholder in html:
            html = html.replace(placeholder, render_template(template).encode())
    return html


def to_placeholders(html: bytes) -> bytes:
    for placeholder, rendered, _fresh in _VALUES:
        if value := rendered():
            html = html.replace(value.encode(), placeholder)
    return html


def from_placeholders(html: bytes) -> bytes:
    for placeholder, _rendered, fresh in _VALUES:
        if placeholder in html:
            html = html.replace(placeholder, fresh().encode())
    return with_personal_parts(html)
