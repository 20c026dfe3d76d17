"""Products: the public catalog; the shop's owner creates, edits (optionally with If-Match), deletes,
restores, adjusts stock, and uploads, deletes and orders images."""

from __future__ import annotations

from flask import request

from shopapp.api.operations import operation
from shopapp.api.schemas import (
    BulkIn,
    BulkOut,
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
from shopapp.products import bulk
from shopapp.products import services as products
from shopapp.products.models import MAX_IMAGES_PER_PRODUCT, MAX_STOCK, Product, ProductImage

TAG = "products"
ONE = "/products/<int:product_id>"
_NEVER_MATCHES = 0  # versions start at 1


def product_etag(product: Product) -> str:
    """A strong entity tag naming the row and its optimistic-locking version."""
    return f'"{product.id}-{product.version}"'


def _expected_version(product_id: int) -> int | None:
    """The version an ``If-Match`` header asks for (Werkzeug parses it); a tag for another row, or a weak
    one, never matches (RFC 9110 13.1.1)."""
    if "If-Match" not in request.headers:
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    prefix = f"{product_id}-"
    for tag in tags.as_set():  # strong tags only
        version = tag.removeprefix(prefix)
        if tag.startswith(prefix) and version.isascii() and version.isdigit() and len(version) <= 18:
            return int(version)
    return _NEVER_MATCHES


@operation(
    "/products", summary="The catalog: search, filter, sort", tag=TAG, query=CatalogListQuery, response=ProductPage
)
def list_products(query: CatalogListQuery) -> Page[Product]:
    """Active products of active shops. q searches names and descriptions (word prefixes match, typos are
    tolerated when nothing matches exactly); a q that is a product's SKU (in any case) finds that product, first.
    category_id includes the categories below it; in_stock=true keeps products with stock above 0; sku finds the
    products with that SKU. Where counting every match would be slow, total stops at a cap and total_is_lower_bound
    says so: page on while items is not empty.
    """
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
    """An active product of an active shop, or one of the caller's own while inactive. The ETag names this version
    of the product: send it back in If-Match to edit without overwriting someone else's change.
    """
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
    """shop_id must be one of the caller's shops (403 for another's, 422 for none such) and category_id an
    existing category (422 otherwise); a name or a SKU taken by another live product of the shop (in any case) is
    409.
    """
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
    """PUT and PATCH alike change only the fields given. With If-Match, the edit is refused with 412 if the product
    changed since that ETag; without it, the last write wins. A new shop_id must be one of the caller's shops
    (403; 422 for none such), a category_id an existing category (422); a name or SKU another live product of the
    shop has (in any case) is 409; "sku": null removes the SKU.
    """
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
    """A soft delete: the product leaves the catalog and can be restored."""
    products.delete_product(user, product_id)


@operation(
    ONE + "/restore",
    methods=("POST",),
    summary="Restore the caller's soft-deleted product; 409 if it is not deleted or a live one took its name or SKU",
    tag=TAG,
    auth="required",
    response=ProductOut,
    errors=(403, 404, 409),
    etag=product_etag,
)
def restore_product(product_id: int, user: User) -> Product:
    """Brings a soft-deleted product back; 409 while another live product of the shop has taken its name or its SKU
    (in any case): rename that one, or change its SKU, first."""
    return products.restore_product(user, product_id)


@operation(
    ONE + "/stock",
    methods=("POST",),
    summary=f"Add delta to the stock atomically; 409 outside 0 to {MAX_STOCK}",
    tag=TAG,
    auth="required",
    body=StockIn,
    response=ProductOut,
    errors=(403, 404, 409),
    etag=product_etag,
)
def adjust_stock(product_id: int, user: User, body: StockIn) -> Product:
    """One atomic update, safe under concurrent calls: 409, and nothing changes, if the stock would leave
    the range the summary gives.
    """
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
    """The image is judged by its content, not its name or declared type: JPEG, PNG or WebP, within the
    upload limits (the image field's description; 413 when larger); anything else (SVG, HTML, a truncated
    or corrupt file) is 422. It is stored re-encoded, upright and without metadata, with a thumbnail; a
    second image part is 422; a product holds at most 10 images (409 beyond).
    """
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
    """All or none: each image as for upload-image, and if one is refused, none is kept. alt is either absent or
    given once per image, in the same order (422 otherwise). A product holds at most 10 images (409 beyond).
    """
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
    """An empty alt gives the image the product's name."""
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
    """The images after it move up one position; the files go once the deletion is committed."""
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
    """image_ids must list every image of the product exactly once (422 otherwise); the first becomes the
    primary image.
    """
    return media.reorder_images(user, product_id, body.image_ids)


@operation(
    "/shops/<int:shop_id>/products/bulk",
    methods=("POST",),
    summary=f"One action on up to {bulk.MAX_IDS} of the shop's products, in one transaction",
    tag=TAG,
    auth="required",
    body=BulkIn,
    response=BulkOut,
    errors=(403, 404, 409),
)
def bulk_edit_products(shop_id: int, user: User, body: BulkIn) -> dict[str, object]:
    """action: activate, deactivate, delete (soft), restore, set_category (value: a category id, or null for none),
    set_stock (value: 0 to 1000000) or adjust_price (value: {"amount": "-2.50"} or {"percent": "10"}; each price
    is rounded half-up to cents and never goes below 0; 409 naming the products whose price would pass 1000000).
    product_ids lists 1 to 1000 of the shop's own products, each once; ids that are not the shop's (or, but for
    delete and restore, are deleted) are 404 naming them. A restore that would give a live product's name or SKU
    (in any case) to another is 409 naming the products. Every refusal changes nothing. changed counts the
    products the action changed: those already as asked are left as they are and not counted.
    """
    given = body.model_dump(exclude_unset=True)
    done = bulk.bulk_edit(user, shop_id, body.action, body.product_ids, body.value, value_given="value" in given)
    return {"changed": done.changed, "products": done.products}
