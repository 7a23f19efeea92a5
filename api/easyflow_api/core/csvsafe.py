"""CSV cells that a spreadsheet will not run as formulas (OWASP CSV injection).

Excel, LibreOffice and Google Sheets treat a cell starting with `=`, `+`, `-`,
`@`, a tab or a carriage return as a formula or control character; text that
came from shoppers (channel names, tags, messages) must not. A leading `'`
makes the spreadsheet show the text as typed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Strings starting with a formula character get a leading `'`; numbers
    are written as numbers (a negative number is a number, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """RFC 4180 CSV: CRLF line ends, which also makes the csv module quote a
    cell holding a bare CR (with "\n" alone it would not, and a CR in a cell
    would split the row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()
