"""core.validation's character rules as JSON Schema patterns, for the OpenAPI document and the API's own checks.

A JSON Schema ``pattern`` is an ECMA-262 regular expression over code points (the ``u`` flag). These are
written so that ECMA-262, Python's ``re`` and the Rust engine schemathesis validates with (fancy-regex) read
them alike: anchored with ``^`` and ``$``, explicit character classes (``\\uXXXX`` escapes, characters
beyond the BMP as themselves), no ``\\s`` or ``\\d`` (each engine has its own), and one lookahead only, in
``EMAIL_DOMAIN``. The API checks a value with ``fullmatch``, as ECMA-262 reads ``$`` (Python's ``search``
would let a trailing newline through), so the document and the API refuse the same strings.

tests/api/test_patterns.py checks every code point against the rule in core.validation each class
stands for, so a change there that these patterns miss fails a test.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from shopapp.core import validation
from shopapp.products.models import MAX_PRICE

EMAIL_MAX = 254  # validation.email
PHONE_MAX = 40  # validation.phone, after white space is collapsed; the API counts the string as sent
PHONE_SIGNS = " +-().ext"  # validation.phone: besides digits


def _scan() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Every code point that is white space, a digit (``str.isdigit``), or a format character (Cf)."""
    space, digits, formats = set(), set(), set()
    for char in map(chr, range(sys.maxunicode + 1)):
        if char.isspace():
            space.add(char)
        elif char.isdigit():
            digits.add(char)
        elif unicodedata.category(char) == "Cf":
            formats.add(char)
    return frozenset(space), frozenset(digits), frozenset(formats)


WHITESPACE, DIGITS, FORMAT_CHARS = _scan()
FORBIDDEN = validation.FORBIDDEN_CHARS
ALLOWED_SPACE = WHITESPACE - FORBIDDEN  # tab, newlines, the spaces


def char_class(chars: Iterable[str], *, negate: bool = False) -> str:
    """``[...]`` of ``chars`` (``[^...]`` with ``negate``), consecutive code points in the BMP as ranges.

    Characters beyond the BMP are listed one by one: read without the ``u`` flag (as some tools check that a
    pattern is a regex at all), each is two UTF-16 code units, and a range between two of them would not parse.
    """
    points = sorted({ord(char) for char in chars})
    parts: list[str] = []
    start = 0
    while start < len(points):
        end = start
        while end + 1 < len(points) and points[end + 1] == points[end] + 1 and points[end + 1] <= 0xFFFF:
            end += 1
        low, high = _escape(points[start]), _escape(points[end])
        parts.append(low if start == end else f"{low}-{high}" if end > start + 1 else low + high)
        start = end + 1
    return ("[^" if negate else "[") + "".join(parts) + "]"


def _escape(point: int) -> str:
    if point > 0xFFFF:
        return chr(point)  # no escape for it reads the same in all three engines; the character itself does
    char = chr(point)
    return char if char.isascii() and (char.isalnum() or char in " _") else f"\\u{point:04x}"


@dataclass(frozen=True)
class Pattern:
    """A JSON Schema ``pattern`` (``source``) and the same expression compiled for the API's check."""

    source: str
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.source))

    def matches(self, value: str) -> bool:
        return self.compiled.fullmatch(value) is not None


def _trimmed(max_length: int, refused: frozenset[str], *, empty: bool) -> Pattern:
    """At most ``max_length`` characters once the white space around them is trimmed (``str.strip``; at least
    one unless ``empty``), none of them in ``refused``: white space, then the trimmed text, then white space."""
    assert max_length >= 2
    space = char_class(ALLOWED_SPACE)
    inner = char_class(refused, negate=True)
    edge = char_class(refused | WHITESPACE, negate=True)
    trimmed = f"(?:{edge}(?:{inner}{{0,{max_length - 2}}}{edge})?){'?' if empty else ''}"
    return Pattern(f"^{space}*{trimmed}{space}*$")


def text_pattern(max_length: int) -> Pattern:
    """``validation.text``: no control or text-direction characters, at most ``max_length`` once trimmed."""
    return _trimmed(max_length, FORBIDDEN, empty=True)


# Any text: no NUL (no database stores it).
NO_NUL = Pattern("^[^\\u0000]*$")
# ``validation.name``: 1 to NAME_MAX characters once trimmed, no control, text-direction or invisible characters;
# that a name shows something is ``NOT_SHOWN``'s, a ``not`` beside it. (Trimmed, the API counts; the rule itself
# collapses white space inside a name too, and a name that needs that to fit is refused, in the document's words.)
NAME = _trimmed(validation.NAME_MAX, FORBIDDEN | validation.INVISIBLE_CHARS, empty=False)
# A name of nothing but white space and format characters (ZWJ...) shows nothing: refused (``not``).
NOT_SHOWN = Pattern(f"^{char_class(WHITESPACE | FORMAT_CHARS)}*$")
BLANK = Pattern(f"^{char_class(WHITESPACE)}*$")
SKU = Pattern(f"^{char_class(validation.SKU_CHARS)}{{1,{validation.SKU_MAX}}}$")
PHONE = Pattern(f"^{char_class(ALLOWED_SPACE | DIGITS | set(PHONE_SIGNS))}*$")


def _price_pattern(most: Decimal) -> Pattern:
    """Digits with at most 2 after a point, 0 to ``most`` (a power of ten): the one spelling the API takes."""
    digits = len(str(int(most))) - 1
    assert most == 10**digits, "the pattern spells the maximum as 1 followed by zeros"
    return Pattern(f"^(?:[0-9]{{1,{digits}}}(?:\\.[0-9]{{1,2}})?|{int(most)}(?:\\.0{{1,2}})?)$")


PRICE = _price_pattern(MAX_PRICE)


def _caseless(word: str) -> str:
    return "".join(f"[{char.lower()}{char.upper()}]" if char.isalpha() else re.escape(char) for char in word)


# validation.email (email_validator) refuses addresses at special-use domains (RFC 6761: .test, .local...),
# which JSON Schema's "email" format allows: the pattern beside the format refuses them too. (A lookahead: the
# format drives what a generator draws, and this only sorts those out.)
_SPECIAL_USE = "|".join(_caseless(name) for name in SPECIAL_USE_DOMAIN_NAMES)
EMAIL_DOMAIN = Pattern(f"^(?![\\s\\S]*[.@](?:{_SPECIAL_USE})$)[\\s\\S]*$")
