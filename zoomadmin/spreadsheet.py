"""CSV cells a spreadsheet shows as text (CSV injection), and the way back for files we exported.

A spreadsheet runs a cell starting with one of `FORMULA_STARTS` as a formula: "=HYPERLINK(…)" in a
group name, or a Zoom message, must arrive as text. Tab and CR are in the list because some
spreadsheets skip them. Every CSV zoomadmin writes (users, audit, a job's results) goes through
`csv_cell`; the import undoes exactly that shape with `csv_cell_undone`, so an exported file can be
edited and uploaded again.
"""

from __future__ import annotations

from typing import Any, Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell a spreadsheet shows as text: formula starts get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell_undone(cell: str) -> str:
    """The value `csv_cell` wrote: only an apostrophe before a formula start is dropped ("'Brien" stays).

    A value that itself starts with an apostrophe and a formula start ("'=1") reads back without the
    apostrophe, as a spreadsheet would show it.
    """
    return cell[1:] if cell.startswith("'") and cell[1:2].startswith(FORMULA_STARTS) else cell
