"""Flash messages, rendered by templates/_flashes.html, and the one rule for where they show.

A view says what it did with ``flash()`` whether the request came from a plain form or from htmx. A full page
(no JavaScript, redirect-after-POST) keeps them in the session until the next page shows them. An htmx answer
that is swapped in place shows them at once: ``init_messages`` adds the page's message region to it, out of
band, and takes them out of the session, so they never turn up later, stale, on another page. A write answered
in place always brings the region, so a message about the last action does not linger after the next one.
"""

from __future__ import annotations

from flask import Flask, flash, render_template, request, session
from flask.globals import request_ctx
from flask.wrappers import Response

from shopapp.core.htmx import asks_for_fragment

# Where Flask keeps flash messages until a page shows them.
WAITING = "_flashes"
# Answer headers with which htmx leaves the page instead of swapping: the next page shows the messages.
_NAVIGATES = ("HX-Redirect", "HX-Location", "HX-Refresh")


def flash_undo(text: str, restore_url: str, label: str = "Undo") -> None:
    """Say what was done (deleted, imported) and offer one click (a POST to ``restore_url``) to undo it."""
    flash({"text": text, "url": restore_url, "label": label}, "undo")  # type: ignore[arg-type]  # any JSON


def _swapped_in_place(response: Response) -> bool:
    """An htmx answer htmx swaps into the page (base.html's responseHandling: 2xx but 204, and 4xx), that the
    browser does not leave, and whose messages no template has taken yet (a fragment never includes the region)."""
    return (
        asks_for_fragment()
        and response.status_code != 204
        and response.status_code // 100 in (2, 4)
        and not any(header in response.headers for header in _NAVIGATES)
        and response.mimetype == "text/html"
        and not response.direct_passthrough
        and request_ctx.flashes is None  # get_flashed_messages() not called yet
    )


def init_messages(app: Flask) -> None:
    @app.after_request
    def _messages_in_place(response: Response) -> Response:
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        if (writes or WAITING in session) and _swapped_in_place(response):
            region = render_template("_flashes.html", flashes_oob=True)
            response.set_data(response.get_data() + region.encode())
            response.vary.add("HX-Request")
        return response
