"""The owner's image pages: upload (several at once), alt texts, reorder, delete with confirmation.

Uploads go through the same ``add_images`` as the API: all the chosen files or none, every refused
file reported by name. A body over the upload limit is refused before it is read (core/uploads.py)
and shown as a form error on the same page, in place with htmx.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from shopapp.auth.sessions import require_login
from shopapp.core.error_pages import domain_error_page
from shopapp.core.errors import DomainError, NotFound, Refused
from shopapp.core.forms import attempt, page_write
from shopapp.core.htmx import render, wants_fragment
from shopapp.core.routing import ID
from shopapp.core.uploads import accepts_images, too_large_detail
from shopapp.extensions import login_manager
from shopapp.media import services
from shopapp.products.models import ALT_MAX, MAX_IMAGES_PER_PRODUCT, Product
from shopapp.products.services import get_owned_product

bp = Blueprint("media_manage", __name__, url_prefix="/dashboard/products")
require_login(bp)

IMAGES = f"/<{ID}:product_id>/images"
ONE = IMAGES + f"/<{ID}:image_id>"


def _page(product: Product, errors: list[str] | None = None, status: int = 200) -> ResponseReturnValue:
    images = services.list_images(product.id)
    return render(
        "media/manage/index.html",
        "media/manage/_gallery.html",
        http_status=status,
        product=product,
        images=images,
        errors=errors or [],
        max_images=MAX_IMAGES_PER_PRODUCT,
        alt_max=ALT_MAX,
    )


def _back(product: Product) -> ResponseReturnValue:
    return _page(product) if wants_fragment() else redirect(url_for("media_manage.index", product_id=product.id))


@bp.get(IMAGES)
def index(product_id: int) -> ResponseReturnValue:
    return _page(get_owned_product(current_user, product_id))


@bp.post(IMAGES)
@accepts_images(MAX_IMAGES_PER_PRODUCT)
@page_write
def upload(product_id: int) -> ResponseReturnValue:
    """The chosen files, each with its own alt text (the form adds one per file with JavaScript on),
    or one alt text for all of them (the plain form has a single field)."""
    product = get_owned_product(current_user, product_id, lock=True)
    chosen = [f for f in request.files.getlist("images") if f and f.filename]
    alts = request.form.getlist("alt")
    if not chosen:
        return _page(product, ["Choose one or more images to upload."], status=422)
    if len(alts) != len(chosen):
        alts = [alts[0] if alts else ""] * len(chosen)
    uploads = [services.NewImage(f.stream, alt) for f, alt in zip(chosen, alts, strict=True)]
    done = attempt(lambda: services.add_images(current_user, product.id, uploads), (DomainError,))
    if done.error is not None:
        return _page(product, _refusals(done.error, chosen), status=done.error.status)
    flash(f"{len(chosen)} image{'s' if len(chosen) != 1 else ''} added.", "success")
    return _back(product)


def _refusals(error: DomainError, chosen: list[FileStorage]) -> list[str]:
    """Each refused file by name (fields ``image``, ``image.0``...), then that nothing was added."""
    problems = error.problems if isinstance(error, Refused) else [error]
    lines = []
    for problem in problems:
        kind, _, index = (problem.field or "").partition(".")
        name = chosen[int(index) if index else 0].filename if kind in ("image", "alt") else ""
        what = "alt text: " if kind == "alt" else ""
        lines.append(f"{name}: {what}{problem.message}" if name else problem.message)
    if len(chosen) > 1:
        lines.append(f"None of the {len(chosen)} images was added; remove or replace the refused ones and try again.")
    return lines


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over the limit never reaches the view: say so on the images page, as a form error.

    The limit is met in CSRFProtect's ``before_request``, before this blueprint's login check has run.
    """
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    try:
        product = get_owned_product(current_user, (request.view_args or {}).get("product_id", 0))
    except DomainError as refused:
        return domain_error_page(refused)
    return _page(product, [too_large_detail()], status=413)


@bp.post(ONE + "/alt")
@page_write
def alt(product_id: int, image_id: int) -> ResponseReturnValue:
    product = get_owned_product(current_user, product_id, lock=True)
    done = attempt(lambda: services.update_image_alt(current_user, product.id, image_id, request.form.get("alt", "")))
    if isinstance(done.error, NotFound):
        raise done.error
    if done.error is not None:
        return _page(product, [f"Alt text: {done.error.message}"], status=done.error.status)
    flash("Alt text saved.", "success")
    return _back(product)


@bp.post(ONE + "/move")
@page_write
def move(product_id: int, image_id: int) -> ResponseReturnValue:
    """Move an image to the chosen position (the gallery's select, or a drop in the browser, send the same form)."""
    position = request.form.get("position", -1, type=int)
    done = attempt(lambda: services.move_image(current_user, product_id, image_id, position))
    product = get_owned_product(current_user, product_id)  # read by the move, under its lock
    if done.error is not None:
        return _page(product, [f"Position: {done.error.message}"], status=done.error.status)
    return _back(product)


@bp.route(ONE + "/delete", methods=["GET", "POST"])
@page_write
def delete(product_id: int, image_id: int) -> ResponseReturnValue:
    """GET asks for confirmation (the page without JavaScript); POST deletes."""
    product = get_owned_product(current_user, product_id, lock=request.method == "POST")
    image = next((i for i in services.list_images(product.id) if i.id == image_id), None)
    if image is None:
        raise NotFound("No such image.")
    if request.method == "GET":
        return render_template("media/manage/delete.html", product=product, image=image)
    services.delete_image(current_user, product.id, image.id)
    flash("Image deleted.", "success")
    return _back(product)
