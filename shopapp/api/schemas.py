"""The API's request and response shapes, in pydantic v2; the OpenAPI document is generated from them.

Request models check types and shape strictly: unknown fields are refused, ``true`` is not a number,
``"5"`` is not an integer and ``1.5`` is not a stock. The business rules stay in ``core.validation``
and the services, so pages and the API refuse the same values with the same words. The JSON Schema
of a field says exactly what the API accepts: where it states a rule of ``core.validation`` (lengths,
characters, ranges: api/patterns.py), the request model checks the same pattern and bounds, in the
rule's own words when the rule refuses the value too. Rules a schema cannot state (a reference that
must exist, an image's content) are said in the field's or the operation's description.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from flask import current_app
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from shopapp.api.fields import (
    Address,
    BodyId,
    Country,
    Description,
    Email,
    JsonInt,
    JsonStr,
    Name,
    NullableBodyId,
    OptionalEmail,
    Password,
    Phone,
    PriceIn,
    PriceOut,
    QueryBool,
    QueryChoice,
    QueryId,
    QueryInt,
    QueryPrice,
    QuerySku,
    QueryText,
    Sku,
    Stock,
    StockDelta,
    Text,
    Timestamp,
    nullable,
)
from shopapp.catalog.query import SORTS
from shopapp.core.db import STATUSES
from shopapp.core.pagination import DEFAULT_PER_PAGE, EXACT_TOTAL_UP_TO, MAX_PER_PAGE, MAX_ROWS_DEEP
from shopapp.media.services import image_urls
from shopapp.orders.carts import CartLine, CartView
from shopapp.orders.models import MAX_QUANTITY, NOTE_MAX, ORDER_STATUSES, Order
from shopapp.orders.services import TRACKING_MAX
from shopapp.products import bulk
from shopapp.products.models import ALT_MAX, MAX_IMAGES_PER_PRODUCT, MAX_STOCK, Product, ProductImage


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """Optional fields default to "not given", not to ``null``: say nothing about a default."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None:
            del prop["default"]


class RequestModel(BaseModel):
    """A JSON body: nothing but the declared fields, no coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_drop_null_defaults)


M = TypeVar("M", bound=BaseModel)


def every_field_optional(model: type[M]) -> type[M]:
    """An Update model from its Create model: the same fields and rules, each optional (what is not sent stays
    as it is), so the two are never written twice."""
    for field in model.model_fields.values():
        if field.is_required():
            field.default = None
    model.model_rebuild(force=True)
    return model


class RegisterIn(RequestModel):
    email: Email
    password: Password
    name: Name


class LoginIn(RequestModel):
    email: JsonStr
    password: JsonStr


class ShopCreate(RequestModel):
    name: Name
    description: Description = None
    address: Address = None
    email: OptionalEmail = None  # type: ignore[assignment]
    phone: Phone = None
    shipping_fee: PriceIn = None  # type: ignore[assignment]  # added to each order of the shop; default 0.00


@every_field_optional
class ShopUpdate(ShopCreate):
    is_active: StrictBool = None  # type: ignore[assignment]


class CategoryCreate(RequestModel):
    name: Name
    description: Description = None
    parent_id: NullableBodyId = None


@every_field_optional
class CategoryUpdate(CategoryCreate):
    pass


class ProductCreate(RequestModel):
    shop_id: BodyId
    name: Name
    price: PriceIn
    stock: Stock
    description: Description = None
    sku: Sku = None
    category_id: NullableBodyId = None
    is_active: StrictBool = None  # type: ignore[assignment]


@every_field_optional
class ProductUpdate(ProductCreate):
    pass


class ImageOrderIn(RequestModel):
    image_ids: Annotated[
        list[BodyId],
        Field(
            max_length=MAX_IMAGES_PER_PRODUCT,
            json_schema_extra={"uniqueItems": True},  # a repeated id is refused (media.services.reorder_images)
            description="Every image id of the product, each once, in the new order.",
        ),
    ]


class ImageAltIn(RequestModel):
    alt: Text(ALT_MAX, "Describes the picture; empty means the product's name.")


class StockIn(RequestModel):
    delta: Annotated[StockDelta, Field(description="Added to the stock atomically; may be negative.")]


_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_DECIMAL_SCHEMA = {"type": "string", "pattern": bulk.DECIMAL_PATTERN, "examples": ["-2.50"]}


def _when(actions: list[str], value: dict[str, Any] | None) -> dict[str, Any]:
    """The value these actions take (required), or none (``None``: absent or null)."""
    then: dict[str, Any] = {"properties": {"value": value or {"type": "null"}}}
    if value is not None:
        then["required"] = ["value"]
    return {"if": {"properties": {"action": {"enum": actions}}, "required": ["action"]}, "then": then}


def _value_by_action(schema: dict[str, Any]) -> None:
    """What each action takes as its value (the service checks the same, products/bulk.py)."""
    _drop_null_defaults(schema)
    price_change = {
        "description": 'Either {"amount": "-2.50"} or {"percent": "10"}.',
        "type": "object",
        "properties": {"amount": _DECIMAL_SCHEMA, "percent": _DECIMAL_SCHEMA},
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
    }
    schema["allOf"] = [
        _when([a for a in bulk.ACTIONS if a not in bulk.VALUED], None),
        _when(["set_category"], {"anyOf": [_ID_SCHEMA, {"type": "null"}]}),
        _when(["set_stock"], {"type": "integer", "minimum": 0, "maximum": MAX_STOCK}),
        _when(["adjust_price"], price_change),
    ]


_ACTION = (
    "What to do, and its value: "
    + "; ".join(f"{action}: {what}" for action, what in bulk.VALUED.items())
    + "; the others take none (null)."
)


class BulkIn(RequestModel):
    """Every field is checked by the service (products/bulk.py), so one 422 names every problem of the request."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_value_by_action)

    action: Annotated[Any, WithJsonSchema({"type": "string", "enum": list(bulk.ACTIONS), "description": _ACTION})]
    product_ids: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "array",
                "items": _ID_SCHEMA,
                "minItems": 1,
                "maxItems": bulk.MAX_IDS,
                "uniqueItems": True,
                "description": "The shop's own products, each once: all of them, or 404 naming the others.",
            }
        ),
    ]
    value: Annotated[Any, WithJsonSchema({})] = None


class QueryModel(BaseModel):
    """Query parameters arrive as strings; each type above parses its own. Unknown ones are refused,
    like unknown body fields, so a typo such as ``per-page`` is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_null_defaults)


class NoQuery(QueryModel):
    """The query of an operation that takes no parameters."""


class PageQuery(QueryModel):
    page: Annotated[
        QueryInt(1, MAX_ROWS_DEEP),
        Field(
            description=f"A list goes at most {MAX_ROWS_DEEP} rows deep: page * per_page may not exceed"
            f" {MAX_ROWS_DEEP} (422 beyond; narrow the search or the filters to reach further)."
        ),
    ] = 1
    per_page: QueryInt(1, MAX_PER_PAGE) = DEFAULT_PER_PAGE


class ShopListQuery(PageQuery):
    q: Annotated[QueryText, Field(description="Part of the shop's name or description, in any case.")] = None  # type: ignore[assignment]
    owner_id: QueryId = None


class CategoryListQuery(PageQuery):
    parent_id: Annotated[QueryId, Field(description="Only the direct children of this category.")] = None


class CatalogListQuery(PageQuery):
    q: Annotated[QueryText, Field(description="Full-text search over name and description; word prefixes match.")] = (
        None  # type: ignore[assignment]
    )
    category_id: Annotated[QueryId, Field(description="This category and all below it.")] = None
    shop_id: QueryId = None
    sku: QuerySku = None  # type: ignore[assignment]
    min_price: QueryPrice = None  # type: ignore[assignment]
    max_price: QueryPrice = None  # type: ignore[assignment]
    in_stock: Annotated[QueryBool, Field(description="true: only products with stock > 0.")] = None  # type: ignore[assignment]
    sort: Annotated[QueryChoice(SORTS), Field(description="Default: relevance when q is given, newest otherwise.")] = (
        None
    )


class OwnProductsQuery(PageQuery):
    status: QueryChoice(STATUSES) = "active"
    sku: QuerySku = None  # type: ignore[assignment]


class ResponseModel(BaseModel):
    """Built from ORM objects; lists exactly the fields a client may see."""

    # A field with a default is still always sent (``total_is_lower_bound``, ``currency``): the document says so.
    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)


class UserOut(ResponseModel):
    id: int
    email: str
    name: str
    is_active: bool
    created_at: Timestamp


class TokenOut(ResponseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: Annotated[int, Field(description="Seconds until the token expires.")]


class ShopOut(ResponseModel):
    id: int
    owner_id: int
    name: str
    slug: str
    description: str
    address: str
    email: str
    phone: str
    is_active: bool
    shipping_fee: PriceOut
    created_at: Timestamp
    updated_at: Timestamp


class CategoryOut(ResponseModel):
    id: int
    name: str
    slug: str
    description: str
    parent_id: int | None
    owner_id: int
    created_at: Timestamp
    updated_at: Timestamp


class ImageOut(ResponseModel):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int
    alt: str
    position: Annotated[int, Field(description="0 is the primary image.")]

    @model_validator(mode="before")
    @classmethod
    def _from_image(cls, data: Any) -> Any:
        """URLs are derived from the storage key; the key itself stays private."""
        if isinstance(data, ProductImage):
            urls = image_urls(data)
            return {
                "id": data.id,
                "url": urls["large"],
                "thumbnail_url": urls["small"],
                "width": data.width,
                "height": data.height,
                "alt": data.alt,
                "position": data.position,
            }
        return data


class ImageList(RootModel[list[ImageOut]]):
    """A bare JSON array of images, in display order."""


class ShopRef(ResponseModel):
    id: int
    name: str
    slug: str


class CategoryRef(ResponseModel):
    id: int
    name: str
    slug: str


class ProductOut(ResponseModel):
    id: int
    shop_id: int
    category_id: int | None
    name: str
    slug: str
    sku: Annotated[str | None, Field(description="The shop's stock-keeping unit, as its owner typed it; null: none.")]
    description: str
    price: PriceOut
    currency: Annotated[str, Field(default_factory=lambda: current_app.config["CURRENCY"])]
    stock: int
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp
    images: list[ImageOut]
    shop: ShopRef
    category: CategoryRef | None


class BulkOut(ResponseModel):
    changed: Annotated[int, Field(description="How many products the action changed (those already so are not).")]
    products: Annotated[list[ProductOut], Field(description="Every product named, as it is now, in the order given.")]


class PageOut(ResponseModel):
    page: int
    per_page: int
    total: Annotated[
        int,
        Field(
            description=f"How many items match; counted exactly up to {EXACT_TOTAL_UP_TO}. Beyond that it is a lower"
            " bound, and `total_is_lower_bound` is true."
        ),
    ]
    pages: Annotated[
        int,
        Field(description="Pages of `total` items; with `total_is_lower_bound`, the next page may still have items."),
    ]
    total_is_lower_bound: Annotated[
        bool,
        Field(
            description="True when there are more items than `total`: the catalog's search and listing stop counting"
            f" at {EXACT_TOTAL_UP_TO} (or at the end of the page asked for, if further)."
        ),
    ] = False


class ShopPage(PageOut):
    items: list[ShopOut]


class CategoryPage(PageOut):
    items: list[CategoryOut]


class ProductPage(PageOut):
    items: list[ProductOut]


class FieldError(BaseModel):
    field: Annotated[str | None, Field(description="Dotted path of the field; null for the body as a whole.")]
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class OwnShopsQuery(PageQuery):
    status: Annotated[QueryChoice(STATUSES), Field(description="Default: active and inactive, not deleted.")] = None


# --- carts, checkout and orders --------------------------------------------------------------------


class CartItemIn(RequestModel):
    quantity: Annotated[
        JsonInt(0, MAX_QUANTITY),
        Field(description=f"1 to {MAX_QUANTITY}; 0 takes the product out of the cart. 409 beyond its stock."),
    ]


class AddressIn(RequestModel):
    name: Name
    line1: Name
    line2: nullable(Name, "Optional; null or left out for none.") = None
    city: Name
    postal_code: Name
    country: Country


class CheckoutIn(RequestModel):
    shipping_address: AddressIn
    note: nullable(Text(NOTE_MAX), "For the shops; null or left out for none.") = None
    expected_total: nullable(
        PriceIn,
        "The total the buyer was shown (the items plus each shop's shipping fee): if the cart's total differs, the"
        " answer is 409 and nothing is placed.",
    ) = None


class CancelIn(RequestModel):
    reason: nullable(Text(NOTE_MAX), "Why; the buyer's mail says it.") = None


class ShipIn(RequestModel):
    tracking_number: nullable(Text(TRACKING_MAX), "Sent to the buyer with the shipping mail.") = None


class OrderListQuery(PageQuery):
    status: QueryChoice(ORDER_STATUSES) = None


class ShopOrderListQuery(OrderListQuery):
    q: Annotated[
        QueryText, Field(description="An order number (exactly, in any case) or part of the buyer's email.")
    ] = None  # type: ignore[assignment]


class CartProductOut(ResponseModel):
    id: int
    name: str
    slug: str
    shop: ShopRef
    image: Annotated[ImageOut | None, Field(description="The primary image (position 0), if any.")]

    @model_validator(mode="before")
    @classmethod
    def _from_product(cls, data: Any) -> Any:
        if isinstance(data, Product):
            image = data.images[0] if data.images else None
            return {"id": data.id, "name": data.name, "slug": data.slug, "shop": data.shop, "image": image}
        return data


class CartItemOut(ResponseModel):
    product: CartProductOut
    quantity: int
    unit_price: Annotated[PriceOut, Field(description="The product's current price.")]
    line_total: PriceOut
    available: Annotated[
        bool, Field(description="False when the product left the catalog or its stock is below the quantity.")
    ]


class CartOut(ResponseModel):
    items: list[CartItemOut]
    item_count: Annotated[int, Field(description="Units in the cart: the sum of the quantities.")]
    subtotal: Annotated[PriceOut, Field(description="Every line's total, available or not; no shipping fees.")]
    currency: str

    @model_validator(mode="before")
    @classmethod
    def _from_view(cls, data: Any) -> Any:
        if isinstance(data, CartView):
            return {
                "items": [_cart_item(line) for line in data.lines],
                "item_count": data.item_count,
                "subtotal": data.subtotal,
                "currency": data.currency,
            }
        return data


def _cart_item(line: CartLine) -> dict[str, Any]:
    return {
        "product": line.product,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "line_total": line.line_total,
        "available": line.available,
    }


class BuyerOut(ResponseModel):
    id: int
    name: str
    email: str


class AddressOut(ResponseModel):
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


class OrderItemOut(ResponseModel):
    product_id: int
    name: str
    unit_price: PriceOut
    quantity: int
    line_total: PriceOut


class OrderOut(ResponseModel):
    """An order as its buyer and its shop's owner see it; the lines and the buyer's details are copies taken
    when it was placed."""

    id: int
    number: str
    status: Literal["placed", "paid", "shipped", "delivered", "cancelled"]
    shop: ShopRef
    buyer: BuyerOut
    items: list[OrderItemOut]
    subtotal: PriceOut
    shipping_fee: PriceOut
    total: PriceOut
    currency: str
    shipping_address: AddressOut
    note: str | None
    tracking_number: str | None
    created_at: Timestamp
    updated_at: Timestamp
    paid_at: Timestamp | None
    shipped_at: Timestamp | None
    delivered_at: Timestamp | None
    cancelled_at: Timestamp | None

    @model_validator(mode="before")
    @classmethod
    def _from_order(cls, data: Any) -> Any:
        if isinstance(data, Order):
            fields = {name: getattr(data, name) for name in cls.model_fields if name != "buyer"}
            return {**fields, "buyer": {"id": data.buyer_id, "name": data.buyer_name, "email": data.buyer_email}}
        return data


class OrderPage(PageOut):
    items: list[OrderOut]


class CheckoutOut(ResponseModel):
    orders: Annotated[list[OrderOut], Field(description="One order per shop of the cart.")]
    total: Annotated[PriceOut, Field(description="What the checkout costs: every order's total.")]
