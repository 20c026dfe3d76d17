"""Serving stored images. In production a proxy can serve MEDIA_ROOT directly (see README)."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory
from flask.typing import ResponseReturnValue

from shopapp.media.services import image_urls, rendition_size

bp = Blueprint("media", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<path:name>")
def serve(name: str) -> ResponseReturnValue:
    """A name never gets other content, so a response never changes: cache it for a year."""
    if not name.endswith(".webp"):
        return current_app.response_class(status=404)
    response = send_from_directory(current_app.config["MEDIA_ROOT"], name, mimetype="image/webp", max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# Templates draw images with these: <img src srcset width height> for any rendition.
bp.add_app_template_global(image_urls, "image_urls")
bp.add_app_template_global(rendition_size, "rendition_size")
