"""Page or fragment: the one place that reads htmx's request headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import make_response, render_template, request
from flask.wrappers import Response


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page.

    A boosted request and a history restore (the user came back to a page whose
    snapshot htmx no longer has) both replace the whole body, so they get the full page.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def shown_page() -> str:
    """The path (and query) of the page the browser shows, for an htmx request; "" when unknown."""
    shown = urlsplit(request.headers.get("HX-Current-URL", ""))
    return shown.path + (f"?{shown.query}" if shown.query else "")


def render(template: str, fragment: str, *, http_status: int = 200, **context: Any) -> Response:
    """Render ``template`` (which includes ``fragment``) or just ``fragment`` for htmx.

    ``Vary: HX-Request`` stops a cache or the browser handing a fragment to a normal
    page load of the same URL (or the other way round).
    """
    response = make_response(render_template(fragment if wants_fragment() else template, **context), http_status)
    response.vary.add("HX-Request")
    return response
