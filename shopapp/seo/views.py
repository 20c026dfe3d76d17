"""``/robots.txt``, ``/favicon.ico`` and the sitemap (seo/sitemap.py)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from werkzeug.http import is_resource_modified

from shopapp.core.cache import shared
from shopapp.seo import sitemap
from shopapp.seo.sitemap import SECTIONS, Listing

bp = Blueprint("seo", __name__)

ONE_DAY = 24 * 3600
# What crawlers have no business reading: the owners' dashboard, accounts, carts, checkout and the JSON API.
DISALLOWED = ("/dashboard/", "/account", "/cart", "/checkout", "/api/")
XML = "application/xml; charset=utf-8"
# Kept by caches, asked again each time: a revalidation is a 304 built from one aggregate query.
REVALIDATE = "public, no-cache"


@bp.get("/robots.txt")
def robots() -> ResponseReturnValue:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED)]
    lines.append(f"Sitemap: {url_for('seo.sitemap_xml', _external=True)}")
    response = current_app.response_class("\n".join(lines) + "\n", mimetype="text/plain")
    response.headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
    return response


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for it whatever the page links; the icon is the SVG base.html names."""
    response = redirect(url_for("static", filename="img/favicon.svg"), 301)
    response.headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
    return response


@bp.get("/sitemap.xml")
@shared
def sitemap_xml() -> ResponseReturnValue:
    """Every address in one file, or past ``SITEMAP_URLS_PER_FILE`` an index of the files (seo/sitemap.py)."""
    per_file = current_app.config["SITEMAP_URLS_PER_FILE"]
    if not sitemap.more_than(per_file):
        listings = [Listing(section) for section in SECTIONS.values()]
        return _urlset(listings, with_pages=True)
    files = [("pages", 1)] + [
        (section.name, number) for section in SECTIONS.values() for number in sitemap.file_numbers(section, per_file)
    ]
    locations = [url_for("seo.sitemap_file", name=name, number=number, _external=True) for name, number in files]
    response = current_app.response_class(sitemap.sitemap_index(locations), content_type=XML)
    response.set_etag(sitemap.etag(locations))
    return response


@bp.get(f"/sitemaps/<any({', '.join(sitemap.FILES)}):name>-<int:number>.xml")
@shared
def sitemap_file(name: str, number: int) -> ResponseReturnValue:
    if name == "pages":
        if number != 1:
            abort(404)
        return _urlset([], with_pages=True)
    listing = sitemap.file_listing(name, number, current_app.config["SITEMAP_URLS_PER_FILE"])
    if listing is None:
        abort(404)
    return _urlset([listing], with_pages=False, empty_is_missing=True)


def _urlset(listings: list[Listing], *, with_pages: bool, empty_is_missing: bool = False) -> Response:
    """The ``<urlset>`` of the pages (if asked) and the listings' rows, streamed, with its validators: the
    listings' fingerprints (and the host the addresses name)."""
    fingerprints = [listing.fingerprint() for listing in listings]
    if empty_is_missing and not any(count for count, _, _ in fingerprints):
        abort(404)
    names = [listing.section.name for listing in listings]
    tag = sitemap.etag(request.host_url, with_pages, names, fingerprints)
    latest = max((when for _, _, when in fingerprints if when is not None), default=None)
    if not is_resource_modified(request.environ, etag=tag, last_modified=latest):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(sitemap.urlset(listings, with_pages=with_pages), content_type=XML)
    response.set_etag(tag)
    response.last_modified = latest
    return response


@bp.after_request
def _conditional(response: Response) -> Response:
    """Sitemaps are kept by caches and asked again each time. A built body (the index, or a shared copy of it)
    answers a client that has it with a 304 here; a streamed one was checked before it was made (``_urlset``:
    ``make_conditional`` would read it whole to learn its length)."""
    if response.status_code in (200, 304) and "ETag" in response.headers:
        response.headers["Cache-Control"] = REVALIDATE
        if not response.is_streamed:
            response.make_conditional(request)
    return response
