"""Which requests the shared cache may answer, and the key of each.

Only anonymous reads are served from it or stored: GET or HEAD, no ``Authorization`` header, nobody
signed in (Flask-Login's ``current_user``, which also reads a remember-me cookie; for a visitor with no
login in the session it costs no query), no cart in the session (the header shows its item count, one
visitor's own) and no flash message waiting in the session. Copies are keyed
by scheme, host, path, query string and whether htmx asked for a fragment: the only parts of a request
the cached views read.
"""

from __future__ import annotations

import hashlib

from flask import request, session
from flask_login import current_user

from shopapp.core.htmx import wants_fragment
from shopapp.core.messages import WAITING

# Where shopapp/orders/views.py keeps an anonymous visitor's cart token (``carts.Holder.token``).
CART = "cart"


def anonymous_read() -> bool:
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return False
    return WAITING not in session and CART not in session and not current_user.is_authenticated


def key() -> str:
    address = f"{request.scheme}://{request.host}{request.path}?".encode() + request.query_string
    return hashlib.sha256(address + (b"#fragment" if wants_fragment() else b"")).hexdigest()
