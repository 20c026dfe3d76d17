"""Products: the public catalog; the shop's owner creates, edits (optionally with If-Match), deletes,
restores, adjusts stock, and uploads, deletes and orders images."""

from __future__ import annotations

import re

from flask import request

from shopapp.api.operations import operation
from shopapp.api.schemas import (
    CatalogListQuery,
    ImageAltIn,
    ImageList,
    ImageOrderIn,
    ImageOut,
    ProductCreate,
    ProductOut,
    ProductPage,
    ProductUpdate,
    StockIn,
)
from shopapp.auth.models import User
from shopapp.catalog import query as catalog
from shopapp.core.pagination import Page
from shopapp.media import services as media
from shopapp.media.services import NewImage
from shopapp.products import services as products
from shopapp.products.models import MAX_IMAGES_PER_PRODUCT, Product, ProductImage

TAG = "products"
ONE = "/products/<int:product_id>"
_ENTITY_TAG = re.compile(r'\s*(W/)?"(\d+)-(\d+)"\s*')
_NEVER_MATCHES = 0  # versions start at 1


def product_etag(product: Product) -> str:
    """A strong entity tag naming the row and its optimistic-locking version."""
    return f'"{product.id}-{product.version}"'


def _expected_version(product_id: int) -> int | None:
    """The version an ``If-Match`` header asks for; a tag for another row (or a weak one) never matches."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    for candidate in header.split(","):
        found = _ENTITY_TAG.fullmatch(candidate)
        weak, row, version = found.groups() if found else ("W/", "", "")
        if not weak and row == str(product_id) and len(version) <= 18:  # compared as text: no giant int()
            return int(version)
    return _NEVER_MATCHES


@operation(
    "/products", summary="The catalog: search, filter, sort", tag=TAG, query=CatalogListQuery, response=ProductPage
)
def list_products(query: CatalogListQuery) -> Page[Product]:
    return catalog.search_catalog(catalog.CatalogQuery(**query.model_dump()))


@operation(
    ONE,
    summary="One product (its owner also sees it while inactive)",
    tag=TAG,
    auth="optional",
    response=ProductOut,
    errors=(404,),
    etag=product_etag,
)
def get_product(product_id: int, user: User | None) -> Product:
    return products.get_visible_product(product_id, user)


@operation(
    "/products",
    methods=("POST",),
    summary="Add a product to one of the caller's shops",
    tag=TAG,
    status=201,
    auth="required",
    body=ProductCreate,
    response=ProductOut,
    errors=(403, 409),
    etag=product_etag,
    rules=products.FIELDS,
)
def create_product(user: User, body: ProductCreate) -> Product:
    return products.create_product(user, body.model_dump(exclude_unset=True))


@operation(
    ONE,
    methods=("PUT", "PATCH"),
    summary="Change the given fields; a stale If-Match is 412",
    tag=TAG,
    auth="required",
    body=ProductUpdate,
    response=ProductOut,
    errors=(403, 404, 409, 412),
    etag=product_etag,
    rules=products.FIELDS,
)
def update_product(product_id: int, user: User, body: ProductUpdate) -> Product:
    changes = body.model_dump(exclude_unset=True)
    return products.update_product(user, product_id, changes, expected_version=_expected_version(product_id))


@operation(
    ONE,
    methods=("DELETE",),
    summary="Soft-delete the caller's product (restorable)",
    tag=TAG,
    auth="required",
    errors=(403, 404),
)
def delete_product(product_id: int, user: User) -> None:
    products.delete_product(user, product_id)


@operation(
    ONE + "/restore",
    methods=("POST",),
    summary="Restore the caller's soft-deleted product; 409 if it is not deleted or a live one took its name",
    tag=TAG,
    auth="required",
    response=ProductOut,
    errors=(403, 404, 409),
    etag=product_etag,
)
def restore_product(product_id: int, user: User) -> Product:
    return products.restore_product(user, product_id)


@operation(
    ONE + "/stock",
    methods=("POST",),
    summary="Add delta to the stock atomically; 409 outside 0 to 1000000",
    tag=TAG,
    auth="required",
    body=StockIn,
    response=ProductOut,
    errors=(403, 404, 409),
    etag=product_etag,
)
def adjust_stock(product_id: int, user: User, body: StockIn) -> Product:
    return products.adjust_stock(user, product_id, body.delta)


@operation(
    ONE + "/upload-image",
    methods=("POST",),
    summary="Add one image (multipart: image, optional alt); JPEG, PNG or WebP by content, at most 10 per product",
    tag=TAG,
    status=201,
    auth="required",
    images=1,
    response=ImageOut,
    errors=(403, 404, 409),
)
def upload_image(product_id: int, user: User, uploads: list[NewImage]) -> ProductImage:
    return media.add_images(user, product_id, uploads)[0]


@operation(
    ONE + "/images",
    methods=("POST",),
    summary="Add several images at once (multipart: image repeated, alt optional per image): all or none",
    tag=TAG,
    status=201,
    auth="required",
    images=MAX_IMAGES_PER_PRODUCT,
    response=ImageList,
    errors=(403, 404, 409),
)
def upload_images(product_id: int, user: User, uploads: list[NewImage]) -> list[ProductImage]:
    return media.add_images(user, product_id, uploads)


@operation(
    ONE + "/images/<int:image_id>",
    methods=("PATCH",),
    summary="Change an image's alt text (empty: the product's name)",
    tag=TAG,
    auth="required",
    body=ImageAltIn,
    response=ImageOut,
    errors=(403, 404),
)
def update_image(product_id: int, image_id: int, user: User, body: ImageAltIn) -> ProductImage:
    return media.update_image_alt(user, product_id, image_id, body.alt)


@operation(
    ONE + "/images/<int:image_id>",
    methods=("DELETE",),
    summary="Delete one of the product's images (its files go once the deletion is committed)",
    tag=TAG,
    auth="required",
    errors=(403, 404),
)
def delete_image(product_id: int, image_id: int, user: User) -> None:
    media.delete_image(user, product_id, image_id)


@operation(
    ONE + "/images/order",
    methods=("PUT",),
    summary="Put the product's images in this order; the first becomes the primary image",
    tag=TAG,
    auth="required",
    body=ImageOrderIn,
    response=ImageList,
    errors=(403, 404),
)
def order_images(product_id: int, user: User, body: ImageOrderIn) -> list[ProductImage]:
    return media.reorder_images(user, product_id, body.image_ids)
