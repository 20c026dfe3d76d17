"""The formula escape of CSV exports and its inverse (the import's): a spreadsheet runs none of the escaped cells,
and unescaping gives every text back exactly."""

from __future__ import annotations

import csv
import io

import pytest

from shopapp.core.csv_cells import FORMULA_START, csv_chunk, escape_cell, unescape_cell

TRICKY = [
    "", "'", "''", "plain", "'quoted", "''=", "=1+2", "'=1+2", "''=1+2", "'''@x", "+33 1 23", "-5% off", "@SUM(A1)",
    "\tTab", "\rCR", "'\t", "a=b", " =leading space", "=", "-", "'-", "'hello'", "é=", "=HYPERLINK(\"http://x\")",
    "line\nbreak", "'a'b'", "\u00a0=", "'\u00a0=",
]  # fmt: skip


@pytest.mark.parametrize("text", TRICKY)
def test_the_pair_gives_every_text_back(text):
    assert unescape_cell(escape_cell(text)) == text


@pytest.mark.parametrize("text", TRICKY)
def test_no_escaped_cell_starts_a_formula(text):
    assert not escape_cell(text).startswith(FORMULA_START)


def test_the_escape_in_examples():
    assert escape_cell("=1+2") == "'=1+2"
    assert escape_cell("'=1+2") == "''=1+2"  # one apostrophe more, so unescaping removes only the added one
    assert escape_cell("'hello") == "'hello" and unescape_cell("'hello") == "'hello"
    assert escape_cell("a=b") == "a=b" and escape_cell("") == ""


def test_every_start_of_a_formula_is_neutralised():
    for start in "=+-@\t\r":
        assert escape_cell(start + "x") == "'" + start + "x"
        assert escape_cell("'" + start + "x") == "''" + start + "x"


def test_cells_survive_the_csv_module():
    rows = [[escape_cell(text), "12.50"] for text in TRICKY]
    parsed = list(csv.reader(io.StringIO(csv_chunk(rows), newline="")))
    assert [[unescape_cell(cell), price] for cell, price in parsed] == [[text, "12.50"] for text in TRICKY]
