"""Requests that carry image files (or one other file, ``accepts_file``): their body limit is set before anything
reads the body.

A view marked with ``accepts_images(n)`` takes a multipart body of up to ``n`` images of
``MAX_UPLOAD_BYTES`` each (plus the framing and the text fields around them); every other request
keeps ``MAX_CONTENT_LENGTH``. The limit must be in place before CSRFProtect's ``before_request``
parses the form, so ``init_uploads`` is called before ``csrf.init_app``. A body over the limit is
refused with a 413 whose ``too_large_detail`` says the limit in the words an owner understands.

Werkzeug checks ``MAX_FORM_MEMORY_SIZE`` against its whole parse buffer, file parts included: the
buffer holds one read chunk (64 KiB) plus the tail of the previous one that might start a boundary.
A limit at or below 64 KiB therefore refused most photographs at random; ``check_form_memory`` keeps
the setting above that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

F = TypeVar("F", bound=Callable[..., object])
UPLOAD_OVERHEAD = 64 * 1024  # multipart framing and the alt texts around the images themselves
PARSER_CHUNK = 64 * 1024  # werkzeug.formparser.MultiPartParser's buffer_size
MAX_BOUNDARY = 200  # RFC 2046 allows 70 characters; anything longer than this is refused, harmlessly
_ATTRIBUTE = "accepts_images"
_FILE_ATTRIBUTE = "accepts_file"


def accepts_images(count: int) -> Callable[[F], F]:
    """Mark a view as taking up to ``count`` image files in one multipart body."""

    def mark(view: F) -> F:
        setattr(view, _ATTRIBUTE, count)
        return view

    return mark


def accepts_file(limit: int) -> Callable[[F], F]:
    """Mark a view as taking one (non-image) file of up to ``limit`` bytes, such as a CSV import."""

    def mark(view: F) -> F:
        setattr(view, _FILE_ATTRIBUTE, limit + UPLOAD_OVERHEAD)
        return view

    return mark


def image_limit() -> int:
    """The largest image file accepted, in bytes."""
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def images_accepted() -> int:
    """How many image files the current request's view takes (0: it takes none)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return int(getattr(view, _ATTRIBUTE, 0))


def body_limit(images: int) -> int:
    return images * image_limit() + UPLOAD_OVERHEAD


def size_label(limit: int) -> str:
    """``10 MB``, ``200 KB``: a byte limit as people read it."""
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def too_large_image() -> str:
    return f"The image is larger than {size_label(image_limit())}."


def too_large_detail() -> str:
    """What a 413 says: the limit that the current request went over."""
    images = images_accepted()
    if images == 1:
        return too_large_image()
    if images:
        return f"The upload is too large: at most {images} images of up to {size_label(image_limit())} each."
    limit = request.max_content_length
    if limit is None:
        return "The request body is too large."
    return f"The request body is larger than {size_label(limit)}, the most this address accepts."


def check_form_memory(app: Flask) -> None:
    """Refuse to start with a form-memory limit that would refuse ordinary photographs (see the module)."""
    needed = PARSER_CHUNK + MAX_BOUNDARY + 4
    configured = app.config.get("MAX_FORM_MEMORY_SIZE")
    if configured is not None and configured < needed:
        raise RuntimeError(
            f"MAX_FORM_MEMORY_SIZE is {configured} bytes; Werkzeug applies it to its parse buffer, file parts "
            f"included, so anything below {needed} bytes refuses ordinary photographs."
        )


def init_uploads(app: Flask) -> None:
    check_form_memory(app)

    @app.before_request
    def _upload_body_limit() -> None:
        images = images_accepted()
        if images:
            request.max_content_length = body_limit(images)
        file_limit = getattr(current_app.view_functions.get(request.endpoint or ""), _FILE_ATTRIBUTE, None)
        if file_limit is not None:
            request.max_content_length = file_limit
