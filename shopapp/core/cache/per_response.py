"""What differs in every answer of a cached page: stored as a placeholder, filled in for each request.

A page's CSP nonce and the visitor's CSRF token are in its HTML; a copy holds placeholders instead, and
each request that is served the copy gets its own values.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g
from flask_wtf.csrf import generate_csrf

from shopapp.core.security import csp_nonce


def _rendered_csrf_token() -> str | None:
    return g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


# (placeholder, the value this request rendered, the value for a request served the copy)
_VALUES: tuple[tuple[bytes, Callable[[], str | None], Callable[[], str]], ...] = (
    (b"\x00csp-nonce\x00", csp_nonce, csp_nonce),
    (b"\x00csrf-token\x00", _rendered_csrf_token, generate_csrf),
)


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
