"""The owner's image pages: upload (several at once), reorder, delete with confirmation.

Uploads go through the same ``add_image`` as the API. Each file is added in its own
savepoint, so one refused file does not lose the others; every refusal is reported.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp.auth.sessions import require_login
from shopapp.core.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from shopapp.core.htmx import render, wants_fragment
from shopapp.core.routing import ID
from shopapp.extensions import db
from shopapp.media import services
from shopapp.products.models import MAX_IMAGES_PER_PRODUCT, Product
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
    )


def _back(product: Product) -> ResponseReturnValue:
    return _page(product) if wants_fragment() else redirect(url_for("media_manage.index", product_id=product.id))


@bp.get(IMAGES)
def index(product_id: int) -> ResponseReturnValue:
    return _page(get_owned_product(current_user, product_id))


@bp.post(IMAGES)
def upload(product_id: int) -> ResponseReturnValue:
    product = get_owned_product(current_user, product_id)
    files = [f for f in request.files.getlist("images") if f and f.filename]
    alt = request.form.get("alt", "")
    errors = [] if files else ["Choose one or more images to upload."]
    added = 0
    for upload_file in files:
        data = upload_file.stream.read(services.upload_limit() + 1)
        try:
            with db.session.begin_nested():
                services.add_image(current_user, product.id, data, alt)
            added += 1
        except (Invalid, Conflict, PayloadTooLarge) as error:
            errors.append(f"{upload_file.filename}: {error.message}")
    db.session.commit()
    if added:
        flash(f"{added} image{'s' if added != 1 else ''} added.", "success")
    if errors:
        return _page(product, errors, status=422)
    return _back(product)


@bp.post(ONE + "/move")
def move(product_id: int, image_id: int) -> ResponseReturnValue:
    step = -1 if request.form.get("direction") == "earlier" else 1
    services.move_image(current_user, product_id, image_id, step)
    db.session.commit()
    return _back(get_owned_product(current_user, product_id))


@bp.route(ONE + "/delete", methods=["GET", "POST"])
def delete(product_id: int, image_id: int) -> ResponseReturnValue:
    """GET asks for confirmation (the page without JavaScript); POST deletes."""
    product = get_owned_product(current_user, product_id)
    image = next((i for i in services.list_images(product.id) if i.id == image_id), None)
    if image is None:
        raise NotFound("No such image.")
    if request.method == "GET":
        return render_template("media/manage/delete.html", product=product, image=image)
    services.delete_image(current_user, product.id, image.id)
    db.session.commit()
    flash("Image deleted.", "success")
    return _back(product)
