"""Adding, deleting and ordering a product's images, with files and rows kept in step.

A row and its files exist together or not at all: files written during a transaction
that is rolled back are removed, and files of a deleted image are removed only after
the deletion commits. Both are driven by session events, so no view has to remember.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from flask import current_app, url_for
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from shopapp.auth.models import User
from shopapp.core import validation
from shopapp.core.errors import Conflict, DomainError, Invalid, NotFound, PayloadTooLarge, Refused
from shopapp.core.uploads import image_limit, too_large_image
from shopapp.extensions import db
from shopapp.media.processing import RENDITIONS, ImageRejected, ProcessedImage, fit_size, process_image
from shopapp.media.storage import get_storage
from shopapp.products.models import ALT_MAX, MAX_IMAGES_PER_PRODUCT, Product, ProductImage
from shopapp.products.services import get_owned_product, lock_owned_product

_WRITTEN = "media_written"  # session.info: files this transaction wrote (removed unless it commits)
_DOOMED = "media_doomed"  # session.info: files to remove once this transaction commits


def rendition_name(key: str, rendition: str) -> str:
    """``ab/abcdef…-small.webp``: a name is never reused for other content, so it is cached for good."""
    return f"{key[:2]}/{key}-{rendition}.webp"


def image_urls(image: ProductImage) -> dict[str, str]:
    return {name: url_for("media.serve", name=rendition_name(image.storage_key, name)) for name in RENDITIONS}


def rendition_size(image: ProductImage, rendition: str) -> tuple[int, int]:
    """Width and height of one rendition, for ``<img width height>`` (no layout shift)."""
    return fit_size((image.width, image.height), RENDITIONS[rendition])


def move_image(user: User, product_id: int, image_id: int, position: int) -> list[ProductImage]:
    """Move one image to ``position`` (0: the primary image) in its product's order, the others keeping theirs
    among themselves; a position the product's images do not have is refused."""
    order = [image.id for image in list_images(lock_owned_product(user, product_id).id)]
    if image_id not in order:
        raise NotFound("No such image.")
    position = validation.bounded_int(position, "position", 0, len(order) - 1)
    order.insert(position, order.pop(order.index(image_id)))
    return reorder_images(user, product_id, order)


@dataclass(frozen=True)
class NewImage:
    """One uploaded file: read (at most the upload limit and a byte) only when its turn comes."""

    stream: IO[bytes]
    alt: str | None = None


def add_image(user: User, product_id: int, data: bytes, alt: str | None = None) -> ProductImage:
    return add_images(user, product_id, [NewImage(io.BytesIO(data), alt)])[0]


def add_images(user: User, product_id: int, uploads: Sequence[NewImage]) -> list[ProductImage]:
    """Add every upload to the product, or none: each refused file is reported, with its field and name.

    One file is the field ``image`` (and ``alt``); of several, each is ``image.0``, ``image.1``... in order.
    The files are decoded one after the other, each freed before the next is read.
    """
    product = lock_owned_product(user, product_id)
    count = db.session.scalar(select(func.count()).where(ProductImage.product_id == product.id)) or 0
    if count + len(uploads) > MAX_IMAGES_PER_PRODUCT:
        room = MAX_IMAGES_PER_PRODUCT - count
        raise Conflict(
            f"A product can have at most {MAX_IMAGES_PER_PRODUCT} images: it has {count}, so "
            f"{room} more can be added{'' if room else ' (delete one first)'}.",
            "image",
        )
    ready: list[tuple[ProcessedImage, str]] = []
    problems: list[DomainError] = []
    for index, upload in enumerate(uploads):
        suffix = "" if len(uploads) == 1 else f".{index}"
        try:
            ready.append(_prepare(upload, suffix, product.name))
        except DomainError as problem:
            problems.append(problem)
    if problems:  # of several files, each refusal names its own (image.0, alt.2...), even if it is the only one
        raise problems[0] if len(uploads) == 1 else Refused(problems)
    images = [_store(product.id, processed, alt, count + offset) for offset, (processed, alt) in enumerate(ready)]
    db.session.flush()
    return images


def _prepare(upload: NewImage, suffix: str, default_alt: str) -> tuple[ProcessedImage, str]:
    alt = validation.text(upload.alt, "alt" + suffix, ALT_MAX) or default_alt
    max_bytes = image_limit()
    data = upload.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(too_large_image(), "image" + suffix)
    try:
        config = current_app.config
        budget = int(config["IMAGE_DECODE_BUDGET_MB"]) * 1024 * 1024
        return process_image(data, config["MAX_IMAGE_PIXELS"], decode_budget=budget), alt
    except ImageRejected as exc:
        raise Invalid(str(exc), "image" + suffix) from exc


def _store(product_id: int, processed: ProcessedImage, alt: str, position: int) -> ProductImage:
    storage = get_storage()
    written = db.session.info.setdefault(_WRITTEN, [])
    for rendition, blob in processed.renditions.items():
        name = rendition_name(processed.key, rendition)
        if storage.save(name, blob):
            written.append(name)
    image = ProductImage(
        product_id=product_id,
        storage_key=processed.key,
        width=processed.width,
        height=processed.height,
        alt=alt,
        position=position,
    )
    db.session.add(image)
    return image


def update_image_alt(user: User, product_id: int, image_id: int, alt: str | None) -> ProductImage:
    """Change an image's alt text; an empty one falls back to the product's name, as on upload."""
    product = get_owned_product(user, product_id)
    image = _owned_image(product, image_id)
    image.alt = validation.text(alt, "alt", ALT_MAX) or product.name
    db.session.flush()
    return image


def _owned_image(product: Product, image_id: int) -> ProductImage:
    image = db.session.get(ProductImage, image_id)
    if image is None or image.product_id != product.id:
        raise NotFound("No such image.")
    return image


def delete_image(user: User, product_id: int, image_id: int) -> None:
    product = lock_owned_product(user, product_id)
    image = _owned_image(product, image_id)
    key = image.storage_key
    db.session.delete(image)
    db.session.flush()
    _renumber(product.id)
    # Images uploaded before each upload got files of its own may share them with another row.
    still_used = db.session.scalar(select(func.count()).where(ProductImage.storage_key == key))
    if not still_used:
        db.session.info.setdefault(_DOOMED, []).extend(rendition_name(key, r) for r in RENDITIONS)


def reorder_images(user: User, product_id: int, image_ids: list[int]) -> list[ProductImage]:
    """Put the product's images in exactly this order (the first becomes the primary image)."""
    product = lock_owned_product(user, product_id)
    images = {i.id: i for i in list_images(product.id)}
    if len(image_ids) != len(set(image_ids)) or set(image_ids) != set(images):
        raise Invalid("must list each of the product's image ids exactly once", "image_ids")
    for position, image_id in enumerate(image_ids):
        images[image_id].position = position
    db.session.flush()
    return list_images(product.id)


def collect_garbage(grace_seconds: float) -> list[str]:
    """Remove stored files no image row refers to, if older than ``grace_seconds`` (uploads in flight)."""
    referenced = set(db.session.scalars(select(ProductImage.storage_key).distinct()))
    storage = get_storage()
    removed = []
    for name in storage.names(older_than_seconds=grace_seconds):
        key = name.rsplit("/", 1)[-1].split("-", 1)[0]
        if key not in referenced:
            storage.delete(name)
            removed.append(name)
    return removed


def list_images(product_id: int) -> list[ProductImage]:
    """A product's images in display order (the first is the primary image)."""
    stmt = select(ProductImage).where(ProductImage.product_id == product_id)
    return list(db.session.scalars(stmt.order_by(ProductImage.position, ProductImage.id)))


def _renumber(product_id: int) -> None:
    for position, image in enumerate(list_images(product_id)):
        image.position = position


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    doomed = session.info.pop(_DOOMED, [])
    if doomed:
        storage = get_storage()
        for name in doomed:
            storage.delete(name)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_DOOMED, None)
    written: list[str] = session.info.pop(_WRITTEN, [])
    if written:  # still here: the transaction did not commit
        storage = get_storage()
        for name in written:
            storage.delete(name)
