"""The API's field types: what one value of a body, a query string or an answer may be, and its JSON Schema.

Request types check a value strictly (``true`` is not a number, ``"5"`` is not an integer) and, where their
schema states a rule of ``core.validation`` (lengths, characters, ranges: api/patterns.py), the same pattern
and bounds, in the rule's own words when the rule refuses the value too. ``schemas.py`` builds the request,
query and response models from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    PlainSerializer,
    PlainValidator,
    StrictStr,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from shopapp.api import patterns
from shopapp.api.patterns import Pattern
from shopapp.core import validation
from shopapp.core.errors import Invalid
from shopapp.orders.countries import COUNTRY_CODES
from shopapp.products.models import MAX_PRICE, MAX_STOCK

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


def nullable(field: Any, description: str = "") -> Any:
    """``field`` or JSON ``null`` (which reads as "none", like leaving the field out): one validator rather than a
    union, so that an error names the field, not a union arm."""
    adapter: TypeAdapter[Any] = TypeAdapter(field)
    schema = adapter.json_schema()

    def check(value: Any) -> Any:
        if value is None:
            return None
        try:
            return adapter.validate_python(value, strict=True)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise _error("must be a string" if error["type"] == "string_type" else error["msg"]) from None

    json_schema: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
    if description:
        json_schema["description"] = description
    return Annotated[Any, PlainValidator(check), WithJsonSchema(json_schema)]


_SKU_DESCRIPTION = (
    f"The shop's stock-keeping unit: 1 to {validation.SKU_MAX} visible ASCII characters (! to ~, no spaces), unique"
    " among the shop's products that are not deleted, compared case-insensitively (409 on a clash)."
)
Sku = nullable(
    TextField(patterns.SKU, rule=validation.sku, otherwise=validation.SKU_RULE, description=_SKU_DESCRIPTION),
    _SKU_DESCRIPTION + " null: none.",
)


def _country_pattern() -> Pattern:
    """Every code ISO 3166-1 assigns, in any case: ``[Aa][DdEe...]|...`` (JSON Schema patterns have no flags)."""
    by_first: dict[str, list[str]] = {}
    for code in sorted(COUNTRY_CODES):
        by_first.setdefault(code[0], []).append(code[1])
    either = "".join
    groups = [
        f"[{first}{first.lower()}][{either(c + c.lower() for c in seconds)}]" for first, seconds in by_first.items()
    ]
    return Pattern(f"^(?:{'|'.join(groups)})$")


COUNTRY = _country_pattern()
_COUNTRY_MESSAGE = "must be an ISO 3166-1 alpha-2 country code, such as FR or DE"


def _country(value: str) -> str:
    if not COUNTRY.matches(value):
        raise _error(_COUNTRY_MESSAGE)
    return value


Country = Annotated[
    StrictStr,
    AfterValidator(_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": COUNTRY.source,
            "description": "An ISO 3166-1 alpha-2 code (FR, DE...) in any case; returned in upper case.",
            "examples": ["FR"],
        }
    ),
]


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


def _query_sku(value: Any) -> str:
    if not patterns.SKU.matches(value):
        raise _error(validation.SKU_RULE)
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
QuerySku = Annotated[
    str,
    PlainValidator(_query_sku),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": patterns.SKU.source,
            "description": "Only the product with this SKU, compared case-insensitively.",
        }
    ),
]
# NUL is refused in every query parameter (operations._query_args).
QueryText = Annotated[
    str,
    PlainValidator(_query_text),
    WithJsonSchema({"type": "string", "maxLength": QUERY_TEXT_MAX, "pattern": patterns.NO_NUL.source}),
]


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
