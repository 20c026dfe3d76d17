"""What pages read from a URL: ids, canonical ``/<id>-<slug>`` addresses, the page number, the viewer."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from shopapp.core.pagination import last_page
from shopapp.core.validation import ID_MAX


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


# Ids in URLs are plain integers; ``ids_in_range`` turns one that no row can have into a 404 (a converter with
# ``max=`` would do it for GET only: Werkzeug then answers 405 to the other methods of the URL).
ID = "int"
MAX_PAGE = 10_000
# The longest request target (path and query, as sent) the app answers: longer is 414 in the app's own words
# (problem+json under /api/v1). gunicorn's request line limit must be above it, or gunicorn answers a bare HTML
# 414 first: production runs it with ``--limit-request-line 8190`` (README), the default 4094 would leave
# only a few dozen characters between the two.
MAX_URL_LENGTH = 4096
# The query arguments a page link may carry over: the filters of the catalog, shop, category and dashboard
# lists. Anything else in the URL (``endpoint``, ``_method``, ``_external``, a view argument's name...)
# would reach ``url_for`` as one of its own keywords, so links never copy it.
LINK_ARGS = ("q", "category", "shop", "min_price", "max_price", "in_stock", "sort", "status")


def page_url(page: int) -> str:
    """The current page's URL at page ``page``, keeping its known filters and nothing else (relative, never
    built from the Host header)."""
    values: dict[str, Any] = {
        **(request.view_args or {}),
        **{key: request.args[key] for key in LINK_ARGS if key in request.args},
    }
    return url_for(str(request.endpoint), **values, page=page)


def canonical_url() -> str | None:
    """The one address of the page being rendered, absolute (as search engines want it), for ``<link
    rel="canonical">``: its endpoint and path arguments, and the page number past the first when no filter is
    set; any other query argument (filters, a chosen image, tracking tags) names the same page. None outside a
    GET route.

    It is built from the request's scheme and host, which the shared cache keys its copies by (core/cache/)."""
    if request.endpoint is None or request.method not in ("GET", "HEAD"):
        return None
    values: dict[str, Any] = dict(request.view_args or {})
    page = request.args.get("page", 1, type=int) or 1
    if page > 1 and not any(request.args.get(key) for key in LINK_ARGS):
        values["page"] = min(page, MAX_PAGE)
    return url_for(request.endpoint, **values, _external=True)


def ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Every route's integer arguments are row ids, and id columns are 32-bit INTEGER (``ID_MAX``): a larger
    one is a 404 here, for every method, before it reaches PostgreSQL (which refuses 2147483648 as an integer
    parameter: a 500). Registered for the whole app (``url_value_preprocessor``), pages and API alike."""
    if values and any(type(value) is int and not 1 <= value <= ID_MAX for value in values.values()):
        raise NotFound()


def url_length() -> int:
    """The request target's length as the client sent it (gunicorn keeps it in RAW_URI), percent-encoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return len(raw)
    path = quote(request.environ.get("PATH_INFO", "").encode("latin-1"), safe="/;:@&=+$,!~*'()%")
    query = request.environ.get("QUERY_STRING", "")
    return len(path) + (len(query) + 1 if query else 0)


def requested_page(per_page: int) -> int:
    """``?page=`` as a page number for pages of ``per_page`` rows: a missing or nonsense value is page 1, one
    deeper than a list goes (``core.pagination.last_page``: 10 000 rows) is the deepest page it shows."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE, last_page(per_page))


def viewer() -> Any:
    """The signed-in user, or None: services take it to let owners see their own hidden rows."""
    return current_user._get_current_object() if current_user.is_authenticated else None
