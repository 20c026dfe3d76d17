"""Which requests the shared cache may answer, and the key of each.

Reads are served from it or stored: GET or HEAD with no ``Authorization`` header (an API caller with a token
is answered as that caller). Whoever reads, signed in or not, with a cart or a message waiting, gets the same
copy: what is the visitor's own in a page is a placeholder filled in per request (``per_response``), and a
view whose answer shows one visitor what others may not see says so (``not_for_others``). Copies are keyed
by scheme, host, path, query string and whether htmx asked for a fragment: the only parts of a request
the cached views read.
"""

from __future__ import annotations

import hashlib

from flask import request

from shopapp.core.htmx import wants_fragment


def shared_read() -> bool:
    return request.method in ("GET", "HEAD") and "Authorization" not in request.headers


def key() -> str:
    address = f"{request.scheme}://{request.host}{request.path}?".encode() + request.query_string
    return hashlib.sha256(address + (b"#fragment" if wants_fragment() else b"")).hexdigest()
