"""What pages read from a URL: ids, canonical ``/<id>-<slug>`` addresses, the page number, the viewer."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask.wrappers import Response
from flask_login import current_user


def canonical_redirect(endpoint: str, ident: int, slug: str, given_slug: str | None) -> Response | None:
    """A permanent redirect to the canonical URL when the slug is missing or stale, else None.

    Old links keep working after a rename, and each page has one address (query string kept).
    """
    if given_slug == slug:
        return None
    target = url_for(endpoint, ident=ident, slug=slug)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 301)


# Ids in URLs stop at the largest 64-bit integer, so a huge number is a 404, never a database overflow.
ID = "int(max=9223372036854775807)"
MAX_PAGE = 10_000


def requested_page() -> int:
    """``?page=`` as a page number: a missing or nonsense value is page 1, a huge one stops at MAX_PAGE."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def viewer() -> Any:
    """The signed-in user, or None: services take it to let owners see their own hidden rows."""
    return current_user._get_current_object() if current_user.is_authenticated else None
