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

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from flask import current_app
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    RootModel,
    StrictBool,
    StrictStr,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shopapp.api import patterns
from shopapp.api.patterns import Pattern
from shopapp.catalog.query import SORTS
from shopapp.core import validation
from shopapp.core.db import STATUSES
from shopapp.core.errors import Invalid
from shopapp.core.pagination import DEFAULT_PER_PAGE, EXACT_TOTAL_UP_TO, MAX_PER_PAGE, MAX_ROWS_DEEP
from shopapp.media.services import image_urls
from shopapp.products.models import ALT_MAX, MAX_IMAGES_PER_PRODUCT, MAX_PRICE, MAX_STOCK, ProductImage

ID_MAX = validation.ID_MAX
ADDRESS_MAX = 500  # shops.services
QUERY_TEXT_MAX = 200  # a search; with the other parameters it stays well inside the URL limit (core/routing.py)
_INT_LIMIT = 2**64  # larger integral values are refused before int() (1e999999999 would take forever)


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


# --- request field types -----------------------------------------------------------------------


def _json_int(value: Any) -> int:
    """An integer, or an integral JSON number such as ``5.0``; never a bool, a string or a fraction."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and value.is_finite() and abs(value) < _INT_LIMIT and value == int(value):
        return int(value)
    raise _error("must be a whole number")


def _json_int_or_null(value: Any) -> int | None:
    return None if value is None else _json_int(value)


def _storable_text(value: str) -> str:
    """No database can store NUL or a lone surrogate (``"\\ud800"`` is valid JSON), whatever the field is for."""
    if "\x00" in value:
        raise _error("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise _error("must be valid Unicode text") from exc
    return value


_CENT = Decimal("0.01")


def _json_price(value: Any) -> Decimal | str | int:
    """A JSON number that is a whole number of cents (``19.990`` and ``1.5e1`` are too), or a string as
    ``patterns.PRICE`` spells one; ``validation.price`` then has its say, in its words."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise _error('must be a decimal number given as a string or a number, such as "19.99"')
    if isinstance(value, str) and not patterns.PRICE.matches(value):
        _rule_refuses(validation.price, value)
        raise _error('must be written as digits with at most 2 after the point, such as "19.99"')
    if isinstance(value, Decimal) and value.is_finite() and 0 <= value <= MAX_PRICE and value == value.quantize(_CENT):
        return value.quantize(_CENT)
    return value


def _rule_refuses(rule: Callable[[Any], object], value: Any) -> None:
    """Raise ``rule``'s own words as the field's error if it refuses ``value`` too."""
    try:
        rule(value)
    except Invalid as exc:
        raise _error(exc.message) from exc


def _checked_text(
    pattern: Pattern,
    *,
    rule: Callable[[str], object],
    otherwise: str,
    max_length: int | None = None,
    shows_nothing: Pattern | None = None,
) -> Callable[[str], str]:
    """Refuse what the document refuses (``pattern``, ``maxLength``, ``not``): in ``rule``'s words where the
    business rule refuses the value too, else with ``otherwise``."""

    def check(value: str) -> str:
        if max_length is not None and len(value) > max_length:
            raise _error(f"must be at most {max_length} characters")
        if not pattern.matches(value) or (shows_nothing is not None and shows_nothing.matches(value)):
            _rule_refuses(rule, value)
            raise _error(otherwise)
        return value

    return check


def TextField(
    pattern: Pattern,
    *,
    rule: Callable[[str], object],
    description: str,
    otherwise: str = "contains characters that are not allowed here",
    max_length: int | None = None,
    shows_nothing: Pattern | None = None,
    **schema: Any,
) -> Any:
    """A JSON string the document describes with ``pattern`` (and ``maxLength``, ``not``, ``schema``), and the
    API checks against the same, before the business rule (``rule``) cleans it."""
    json_schema: dict[str, Any] = {"type": "string", "pattern": pattern.source, **schema}
    if max_length is not None:
        json_schema["maxLength"] = max_length
    if shows_nothing is not None:
        json_schema["not"] = {"pattern": shows_nothing.source}
    check = _checked_text(pattern, rule=rule, otherwise=otherwise, max_length=max_length, shows_nothing=shows_nothing)
    return Annotated[
        StrictStr,
        AfterValidator(_storable_text),
        AfterValidator(check),
        WithJsonSchema({**json_schema, "description": description}),
    ]


def _text_rule(max_length: int) -> Callable[[str], object]:
    return lambda value: validation.text(value, "text", max_length)


def Text(max_length: int, description: str = "") -> Any:
    """Free text of at most ``max_length`` characters once trimmed; no control or text-direction characters."""
    return TextField(
        patterns.text_pattern(max_length),
        rule=_text_rule(max_length),
        description=f"{description} {TEXT_RULE.format(max_length=max_length)}".lstrip(),
    )


TEXT_RULE = (
    "At most {max_length} characters once the white space around them is trimmed; tab and newlines are fine,"
    " other control characters and text-direction marks are not."
)


def _email_check(*, blank_allowed: bool) -> Callable[[str], str]:
    """At most ``EMAIL_MAX`` characters as sent (unless blank, where allowed); ``validation.email`` decides the rest."""

    def check(value: str) -> str:
        if blank_allowed and patterns.BLANK.matches(value):
            return value
        if len(value) > patterns.EMAIL_MAX:
            raise _error(f"must be at most {patterns.EMAIL_MAX} characters")
        return value

    return check


_EMAIL_SCHEMA = {
    "type": "string",
    "format": "email",
    "maxLength": patterns.EMAIL_MAX,
    "pattern": patterns.EMAIL_DOMAIN.source,
}


def _int_schema(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def JsonInt(low: int, high: int, *, nullable: bool = False) -> Any:
    """An integer field documented as ``low … high``; the service enforces the same bounds exactly.

    ``nullable`` is one validator rather than ``int | None``, so an error names the field, not a union arm.
    """
    if nullable:
        schema = {"anyOf": [_int_schema(low, high), {"type": "null"}]}
        return Annotated[int | None, PlainValidator(_json_int_or_null), WithJsonSchema(schema)]
    return Annotated[int, PlainValidator(_json_int), WithJsonSchema(_int_schema(low, high))]


BodyId = JsonInt(1, ID_MAX)
NullableBodyId = JsonInt(1, ID_MAX, nullable=True)
Stock = JsonInt(0, MAX_STOCK)
StockDelta = JsonInt(-MAX_STOCK, MAX_STOCK)
PriceIn = Annotated[
    Decimal | str | int,
    PlainValidator(_json_price),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": patterns.PRICE.source, "examples": ["19.99"]},
                {"type": "number", "minimum": 0, "maximum": int(MAX_PRICE), "multipleOf": 0.01},
            ],
            "description": f"A decimal with at most 2 fraction digits, 0 to {int(MAX_PRICE)}: a string of digits"
            ' such as "19.99" (which keeps it exact), or a JSON number that is a whole number of cents.',
        }
    ),
]
# Any string without NUL (nor a lone surrogate, which no JSON encoder makes from text).
JsonStr = Annotated[
    StrictStr, AfterValidator(_storable_text), WithJsonSchema({"type": "string", "pattern": patterns.NO_NUL.source})
]
Name = TextField(
    patterns.NAME,
    rule=validation.name,
    otherwise=f"must be at most {validation.NAME_MAX} characters after trimming",
    shows_nothing=patterns.NOT_SHOWN,
    description=f"1 to {validation.NAME_MAX} characters once the white space around them is trimmed (white space"
    " inside is collapsed to one space); something visible, and no control, text-direction or invisible characters"
    " (zero-width space, soft hyphen...).",
)
Description = Text(validation.DESCRIPTION_MAX)
Address = Text(ADDRESS_MAX)
Email = Annotated[
    StrictStr,
    AfterValidator(_storable_text),
    AfterValidator(_email_check(blank_allowed=False)),
    WithJsonSchema(
        {
            **_EMAIL_SCHEMA,
            "description": "Compared case-insensitively; stored in lower case. Not at a special-use domain (.test,"
            " .local...).",
        }
    ),
]
OptionalEmail = Annotated[
    StrictStr,
    AfterValidator(_storable_text),
    AfterValidator(_email_check(blank_allowed=True)),
    WithJsonSchema(
        {
            "anyOf": [_EMAIL_SCHEMA, {"type": "string", "pattern": patterns.BLANK.source}],
            "description": "An email address, or empty (white space only) for none.",
        }
    ),
]
Phone = TextField(
    patterns.PHONE,
    rule=validation.phone,
    max_length=patterns.PHONE_MAX,
    description=f"Digits, spaces and {' '.join(patterns.PHONE_SIGNS.strip())}; at most {patterns.PHONE_MAX}"
    " characters. Empty for none.",
)
Password = TextField(  # validation.password checks both lengths itself, in its words
    patterns.NO_NUL,
    rule=validation.password,
    minLength=validation.PASSWORD_MIN,
    maxLength=validation.PASSWORD_MAX,
    description=f"{validation.PASSWORD_MIN} to {validation.PASSWORD_MAX} characters.",
)


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


# --- query string types --------------------------------------------------------------------------


# A whole number, also as a client may write an integral float: "2.0" (JSON Schema's integer 2 all the same).
_QUERY_INT = re.compile(r"-?([0-9]{1,20})(?:\.0{1,20})?", re.ASCII)


def _query_int(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        found = _QUERY_INT.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise _error("must be a whole number")
        number = int(found[1]) * (-1 if value.startswith("-") else 1)
        if not low <= number <= high:
            raise _error(f"must be between {low} and {high}")
        return number

    return parse


def QueryInt(low: int, high: int) -> Any:
    return Annotated[int, PlainValidator(_query_int(low, high)), WithJsonSchema(_int_schema(low, high))]


def _query_bool(value: Any) -> bool:
    if value not in ("true", "false"):
        raise _error("must be true or false")
    return value == "true"


def _query_price(value: Any) -> Decimal:
    """A price filter is a price as ``patterns.PRICE`` spells one: 0 … 1 000 000 with at most two fraction digits."""
    if not patterns.PRICE.matches(value):
        _rule_refuses(validation.price, value)
        raise _error("must be written as digits with at most 2 after the point, such as 19.99")
    return validation.price(value)


def _query_text(value: Any) -> str:
    if len(value) > QUERY_TEXT_MAX:
        raise _error(f"must be at most {QUERY_TEXT_MAX} characters")
    return value


def QueryChoice(choices: tuple[str, ...]) -> Any:
    """One of ``choices``; the service checks the same tuple, this makes an empty value an error too."""

    def parse(value: Any) -> str:
        if value not in choices:
            raise _error(f"must be one of {', '.join(choices)}")
        return value

    return Annotated[str, PlainValidator(parse), WithJsonSchema({"type": "string", "enum": list(choices)})]


QueryId = QueryInt(1, ID_MAX)
QueryBool = Annotated[bool, PlainValidator(_query_bool), WithJsonSchema({"type": "boolean"})]
QueryPrice = Annotated[
    Decimal,
    PlainValidator(_query_price),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": patterns.PRICE.source,
            "description": f"A price: digits with at most 2 after the point, 0 to {int(MAX_PRICE)}.",
            "examples": ["19.99"],
        }
    ),
]
# NUL is refused in every query parameter (operations._query_args).
QueryText = Annotated[
    str,
    PlainValidator(_query_text),
    WithJsonSchema({"type": "string", "maxLength": QUERY_TEXT_MAX, "pattern": patterns.NO_NUL.source}),
]


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
    min_price: QueryPrice = None  # type: ignore[assignment]
    max_price: QueryPrice = None  # type: ignore[assignment]
    in_stock: Annotated[QueryBool, Field(description="true: only products with stock > 0.")] = None  # type: ignore[assignment]
    sort: Annotated[QueryChoice(SORTS), Field(description="Default: relevance when q is given, newest otherwise.")] = (
        None
    )


class OwnProductsQuery(PageQuery):
    status: QueryChoice(STATUSES) = "active"


# --- response types ------------------------------------------------------------------------------


def _timestamp(value: datetime) -> str:
    """``2026-11-23T20:15:00Z``: UTC, whole seconds (isoformat, not strftime: twice as fast, twice a product)."""
    return value.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-23T20:15:00Z"]}),
]
PriceOut = Annotated[
    Decimal,
    PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["19.99"]}),
]


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
