"""zoomadmin.spreadsheet: exported cells a spreadsheet shows as text, and the import's way back."""

from __future__ import annotations

import pytest

from zoomadmin.spreadsheet import FORMULA_STARTS, csv_cell, csv_cell_undone


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-zJKyaiAyTNC-MWjiWC18K", "'-zJKyaiAyTNC-MWjiWC18K"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("O'Brien", "O'Brien"),
        ("Jill", "Jill"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (-3, "'-3"),
    ],
)
def test_a_cell_starting_like_a_formula_gets_an_apostrophe(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize("text", ["=1+1", "-abc", "+44", "@x", "\tx", "\rx", "plain", "'quoted'", "'Brien", "'", ""])
def test_the_import_reads_back_exactly_what_was_exported(text: str) -> None:
    assert csv_cell_undone(csv_cell(text)) == text


def test_only_an_apostrophe_before_a_formula_start_is_dropped() -> None:
    assert csv_cell_undone("'Brien") == "'Brien"
    assert csv_cell_undone("''=1") == "''=1"
    assert csv_cell_undone("'") == "'"
    assert all(csv_cell_undone("'" + start + "x") == start + "x" for start in FORMULA_STARTS)
