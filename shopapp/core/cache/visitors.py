"""Which requests the shared cache may answer, and the key of each.

Reads are served from it or stored: GET or HEAD with no ``Authorization`` header (an API caller with a token
is answered as that caller). Whoever reads, signed in or not, with a cart or a message waiting, gets the same
copy: what is the visitor's own in a page is a placeholder filled in per request (``per_response``), and a
view whose answer shows one visitor what others may not see says so (``not_for_others``). Copies are keyed
by scheme, host, path, query string and whether htmx asked for a fragment: the only parts of a request
the cached views read.

A visitor's personal parts are kept under the host and the session's contents (its signed cookie: the user
and its token version, the cart's token), but for the CSRF token, a placeholder in them. A session with a
message waiting, or a remembered login not in the session yet, has them rendered afresh.
"""

from __future__ import annotations

import hashlib
import json

from flask import current_app, request, session

from shopapp.core.htmx import wants_fragment
from shopapp.core.messages import WAITING


def shared_read() -> bool:
    return request.method in ("GET", "HEAD") and "Authorization" not in request.headers


def key() -> str:
    address = f"{request.scheme}://{request.host}{request.path}?".encode() + request.query_string
    return hashlib.sha256(address + (b"#fragment" if wants_fragment() else b"")).hexdigest()


def personal_key() -> str | None:
    """The key of this visitor's personal parts; None when they must be rendered for this request."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if wants_fragment() or WAITING in session or ("_user_id" not in session and remember_cookie in request.cookies):
        return None
    csrf_key = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    contents = {name: value for name, value in session.items() if name != csrf_key}
    address = f"{request.host}\n{json.dumps(contents, sort_keys=True, default=str)}"
    return hashlib.sha256(address.encode()).hexdigest()
