"""CSV cells a spreadsheet will not run: the formula escape of every export, and its inverse for the import;
CSV text and its download.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a carriage return)
as a formula (OWASP "CSV injection"). Such a text cell is written with a leading apostrophe, which spreadsheets
show as text. So that reading the file back gives the very text again, a text that already starts with
apostrophes followed by one of those characters gets one apostrophe more: ``unescape_cell`` then removes exactly
one from any cell of that shape, and leaves every other cell alone (``'hello`` stays ``'hello``).

Numbers (prices, stock) are not text cells: they are never escaped, so ``-2.50`` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _looks_escaped(text: str) -> bool:
    """Apostrophes, then a formula's first character: the shape of an escaped cell."""
    rest = text.lstrip("'")
    return rest != text and rest.startswith(FORMULA_START)


def escape_cell(text: str) -> str:
    """``text`` as a spreadsheet will show it and not run it; ``unescape_cell`` gives ``text`` back."""
    return "'" + text if text.startswith(FORMULA_START) or _looks_escaped(text) else text


def unescape_cell(cell: str) -> str:
    """The text ``escape_cell`` was given."""
    return cell[1:] if _looks_escaped(cell) else cell


def csv_chunk(rows: Iterable[Iterable[str]]) -> str:
    """``rows`` as CSV text (RFC 4180: CRLF line ends, fields quoted where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def csv_download(chunks: Iterator[str], filename: str) -> Response:
    """A streamed CSV attachment of ``chunks``, which keep the request's app context while they are read."""
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
