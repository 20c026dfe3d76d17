"""The document's patterns (shopapp/api/patterns.py) say what core.validation's rules accept, code point by code point.

Each pattern is built from character sets of its own; these tests hold it to the rule it stands for over every
code point there is, so a rule that changes without its pattern (or the other way round) fails here.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable

import pytest
from email_validator import SPECIAL_USE_DOMAIN_NAMES

from shopapp.api import patterns
from shopapp.core import validation
from shopapp.core.errors import Invalid

EVERY_CHARACTER = [chr(point) for point in range(sys.maxunicode + 1) if not 0xD800 <= point <= 0xDFFF]
# Assigned characters (no surrogates, private use or unassigned code points, which no rule singles out).
ASSIGNED = [char for char in EVERY_CHARACTER if unicodedata.category(char) not in ("Cn", "Co")]


def _accepts(rule: Callable[[str], object], value: str) -> bool:
    try:
        rule(value)
    except Invalid:
        return False
    return True


def _disagreements(
    rule: Callable[[str], object], pattern: Callable[[str], bool], wrap: str, chars: list[str] = EVERY_CHARACTER
) -> list[str]:
    """Code points where ``rule`` and ``pattern`` judge ``wrap`` around them differently (the first 20).

    For a rule that refuses a string for any one bad character: each character the pattern refuses is asked of
    the rule alone, those it takes are asked together, 100 at a time (a million calls would take a while).
    """
    taken: list[str] = []
    refused: list[str] = []
    for char in chars:
        (taken if pattern(wrap.format(char)) else refused).append(char)
    wrong = [char for char in refused if _accepts(rule, wrap.format(char))]
    for start in range(0, len(taken), 100):
        batch = taken[start : start + 100]
        if not _accepts(rule, wrap.format("".join(batch))):
            wrong += [char for char in batch if not _accepts(rule, wrap.format(char))]
    return sorted(f"U+{ord(char):04X}" for char in wrong)[:20]


def _name_pattern(value: str) -> bool:
    return patterns.NAME.matches(value) and not patterns.NOT_SHOWN.matches(value)


def test_the_name_pattern_is_validation_name():
    assert _disagreements(validation.name, _name_pattern, "a{}b") == []
    assert _disagreements(validation.name, _name_pattern, " a {} b ") == []
    # Alone, a character must also show: asked one by one (showing is not refused by a bad character).
    alone = [f"U+{ord(c):04X}" for c in ASSIGNED if _accepts(validation.name, c) != _name_pattern(c)]
    assert alone[:20] == []


def test_the_text_pattern_is_validation_text():
    text = patterns.text_pattern(validation.DESCRIPTION_MAX)
    assert _disagreements(lambda value: validation.text(value, "text"), text.matches, "a{}b") == []
    assert _disagreements(lambda value: validation.text(value, "text"), text.matches, "{}") == []


def test_the_phone_pattern_is_validation_phone():
    # Few characters are allowed, so nearly every one is asked alone: the assigned ones (no rule names others).
    assert _disagreements(validation.phone, patterns.PHONE.matches, "1{}2", ASSIGNED) == []


def _blank(value: str) -> None:
    if validation.optional_email(value) != "":
        raise Invalid("is an address", "email")


def test_the_blank_pattern_is_what_an_optional_email_takes_for_none():
    """Asked one by one over the first 12 289 code points: every white space character there is lies among them."""
    assert max(patterns.WHITESPACE) < "\u3001"
    below = EVERY_CHARACTER[:0x3001]
    wrong = [f"U+{ord(c):04X}" for c in below if _accepts(_blank, c) != patterns.BLANK.matches(c)]
    assert wrong == []


def test_lengths_are_counted_as_the_rules_count_them():
    name = "x" * validation.NAME_MAX
    assert _name_pattern(f"  {name}\n") and not _name_pattern(name + "x")
    assert _name_pattern("a" + " " * 198 + "b") and not _name_pattern("a" + " " * 199 + "b")  # trimmed, not collapsed
    text = patterns.text_pattern(300)
    for value in ("", " ", "x" * 300, f"\n {'x' * 300}\t", "x" + " " * 298 + "x", "x" * 301, "x" + " " * 299 + "x"):
        assert text.matches(value) is _accepts(lambda v: validation.text(v, "alt", 300), value), repr(value)
    assert _accepts(validation.phone, "1" * patterns.PHONE_MAX) and not _accepts(validation.phone, "1" * 41)
    assert not _accepts(validation.email, "a@" + "b" * 250 + ".com")


def test_the_email_domain_pattern_is_what_validation_email_refuses_for_its_domain():
    for name in SPECIAL_USE_DOMAIN_NAMES:
        for address in (f"shop@mail.{name}", f"shop@mail.{name.upper()}", f"shop@{name}"):
            assert not _accepts(validation.email, address) and not patterns.EMAIL_DOMAIN.matches(address), address
        for address in (f"shop@{name}.example.com", f"{name}@example.com"):
            assert _accepts(validation.email, address) and patterns.EMAIL_DOMAIN.matches(address), address


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0", True), ("19.99", True), ("007", True), ("999999.99", True), ("1000000", True), ("1000000.00", True),
     ("1000000.01", False), ("1000001", False), ("19.999", False), ("-1", False), ("+1", False), (" 1", False),
     ("1e3", False), (".5", False), ("5.", False), ("٣", False), ("1_000", False), ("19.99\n", False), ("", False)],
)  # fmt: skip
def test_the_price_pattern(value, ok):
    assert patterns.PRICE.matches(value) is ok
    if ok:
        assert _accepts(validation.price, value), "every price the pattern spells is a price"


def test_char_class_spells_ranges_and_astral_characters():
    assert patterns.char_class("abcdez") == "[a-ez]"
    assert patterns.char_class({"\x00", "-", "\U0001f600"}, negate=True) == "[^\\u0000\\u002d\U0001f600]"
    assert patterns.char_class({"\U0001f600", "\U0001f601", "\U0001f602"}) == "[\U0001f600\U0001f601\U0001f602]"
