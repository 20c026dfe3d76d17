"""Business-rule checks on plain values, shared by every service.

The API's schemas check types first; these checks are the rules themselves, so a
page form, the API and the CLI all refuse the same values with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email

from shopapp.core.errors import Invalid, Problems
from shopapp.core.text import clean_name

NAME_MAX = 200
DESCRIPTION_MAX = 5000
PASSWORD_MIN = 8
PASSWORD_MAX = 128
PRICE_MAX = Decimal("1000000")
STOCK_MAX = 1_000_000
SKU_MAX = 64
ID_MAX = 2**31 - 1  # id columns are 32-bit INTEGER: a larger reference would overflow on PostgreSQL
# NUL breaks PostgreSQL text; bidi embeddings/overrides/isolates and marks let a name display as something it is
# not; other C0/C1 controls (ANSI escapes...) have no place in a name or a description (tab and newlines aside).
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = "".join(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r")
_FORBIDDEN_CHARS = frozenset(_BIDI + _CONTROLS)
# Invisible in a name whatever the script (ZWJ/ZWNJ are not: some scripts and emoji need them between letters).
_INVISIBLE = frozenset("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060\u2061\u2062\u2063\u2064\u3164\ufeff")
# A field's rule: the value as given in, the value to store out, or ``Invalid``.
Rules = Mapping[str, Callable[[Any], Any]]
# The API states these two sets in its OpenAPI document (api/patterns.py builds its patterns from them).
FORBIDDEN_CHARS = _FORBIDDEN_CHARS
INVISIBLE_CHARS = _INVISIBLE
# A price as typed: ASCII digits only ("٣" and "1_000" are numbers to Python's Decimal, not to a customer).
_PRICE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _no_control(value: str, field: str) -> str:
    if any(ch in _FORBIDDEN_CHARS for ch in value):
        raise Invalid("must not contain control characters (NUL, escapes, text-direction marks)", field)
    return value


def _visible_name(value: str, field: str) -> str:
    """No invisible filler, and at least one character that shows: a name of zero-width joiners is empty."""
    if any(ch in _INVISIBLE for ch in value):
        raise Invalid("must not contain invisible characters", field)
    if not any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in value):
        raise Invalid("must not be empty", field)
    return value


def name(value: str, field: str = "name", max_length: int = NAME_MAX) -> str:
    cleaned = clean_name(_visible_name(_no_control(value, field), field))
    if len(cleaned) > max_length:
        raise Invalid(f"must be at most {max_length} characters", field)
    return cleaned


def text(value: str | None, field: str, max_length: int = DESCRIPTION_MAX) -> str:
    cleaned = _no_control(value or "", field).strip()
    if len(cleaned) > max_length:
        raise Invalid(f"must be at most {max_length} characters", field)
    return cleaned


def email(value: str, field: str = "email") -> str:
    """A syntactically valid address, lower-cased: emails compare case-insensitively."""
    candidate = _no_control(value or "", field).strip()
    if len(candidate) > 254:
        raise Invalid("must be at most 254 characters", field)
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid("is not a valid email address", field) from exc
    return result.normalized.lower()


def optional_email(value: str | None, field: str = "email") -> str:
    return email(value, field) if value and value.strip() else ""


def phone(value: str | None, field: str = "phone") -> str:
    cleaned = clean_name(_no_control(value or "", field))
    if len(cleaned) > 40:
        raise Invalid("must be at most 40 characters", field)
    if cleaned and not all(ch.isdigit() or ch in " +-().ext" for ch in cleaned):
        raise Invalid("may contain only digits, spaces and + - ( )", field)
    return cleaned


def password(value: str, field: str = "password") -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise Invalid(f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters", field)
    return value


def price(value: Decimal | str | int, field: str = "price") -> Decimal:
    """A price with at most two fraction digits in 0 … 1 000 000; never a float."""
    if isinstance(value, bool | float):
        raise Invalid("must be a decimal number given as a string or an integer", field)
    try:
        if isinstance(value, str) and not _PRICE.fullmatch(value.strip()):
            raise InvalidOperation(value)
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise Invalid("must be a number such as 19.99", field) from exc
    if not amount.is_finite():
        raise Invalid("must be a finite number", field)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("must have at most 2 decimal places", field)
    if amount < 0:
        raise Invalid("must be at least 0", field)
    if amount > PRICE_MAX:
        raise Invalid(f"must be at most {PRICE_MAX}", field)
    return amount.quantize(Decimal("0.01")) + Decimal("0.00")


def bounded_int(value: int, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("must be a whole number", field)
    if value < low:
        raise Invalid(f"must be at least {low}", field)
    if value > high:
        raise Invalid(f"must be at most {high}", field)
    return value


# A SKU: visible ASCII only (0x21-0x7E), so it reads, sorts and types the same in every tool and spreadsheet.
SKU_CHARS = "".join(map(chr, range(0x21, 0x7F)))
_SKU = re.compile(f"[!-~]{{1,{SKU_MAX}}}", re.ASCII)
SKU_RULE = f"must be 1 to {SKU_MAX} visible ASCII characters (letters, digits, punctuation; no spaces)"


def sku(value: str | None, field: str = "sku") -> str | None:
    """A stock-keeping unit as given, or None for none; compared case-insensitively (the services and the
    index), stored as typed."""
    if value is None:
        return None
    if not isinstance(value, str) or not _SKU.fullmatch(value):
        raise Invalid(SKU_RULE, field)
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false", field)
    return value


def clean_fields(
    data: Mapping[str, Any], rules: Rules, problems: Problems, *, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check every given field with its rule, and that each ``required`` one is given; the valid ones come back
    cleaned. Each problem goes into ``problems``, so one answer can name them all. A field no rule knows is
    refused (no mass assignment)."""
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key not in rules:
            problems.add(Invalid("is not a field you can set", key))
            continue
        with problems.check():
            cleaned[key] = rules[key](value)
    for key in required:
        if key not in data:
            problems.add(Invalid("is required", key))
    return cleaned
