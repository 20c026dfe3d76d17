"""Page or fragment: the one place that reads htmx's request headers.

Whatever asked ``wants_fragment`` may answer differently to htmx: such a response says
``Vary: HX-Request`` (and the other headers read), so no cache or browser hands a fragment
to a normal page load of the same URL, or the other way round.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, make_response, render_template, request
from flask.wrappers import Response

# The request headers ``wants_fragment`` reads.
_READ = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page.

    A boosted request and a history restore (the user came back to a page whose
    snapshot htmx no longer has) both replace the whole body, so they get the full page.
    """
    g.htmx_varies = True
    return asks_for_fragment()


def asks_for_fragment() -> bool:
    """``wants_fragment`` without marking the answer as varying: for a hook that looks at every request and
    says ``Vary`` itself only when its answer did change (core/messages.py)."""
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
    """Render ``template`` (which includes ``fragment``) or just ``fragment`` for htmx."""
    return make_response(render_template(fragment if wants_fragment() else template, **context), http_status)


def init_htmx(app: Flask) -> None:
    @app.after_request
    def _vary(response: Response) -> Response:
        if g.get("htmx_varies"):
            for header in _READ:
                response.vary.add(header)
        return response
