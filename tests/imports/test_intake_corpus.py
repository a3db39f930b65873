"""The CSV intake against the corpus of awkward files in `corpus/`: each is read (or refused) as its sidecar says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from zoomadmin.imports.csvfile import CsvRefused
from zoomadmin.imports.rows import RowError, RowIntent, intake_open

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(CORPUS.glob("*.csv"))


def _make_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_expected(row: RowIntent | RowError) -> dict[str, Any]:
    if isinstance(row, RowError):
        return {"line": row.line, "error": row.message, "email": row.email}
    return {
        "line": row.line,
        "action": str(row.action),
        "email": row.email,
        "fields": row.fields,
        "groups": list(row.groups),
        "active": row.active,
    }


def test_the_committed_corpus_is_what_make_corpus_writes(tmp_path: Path) -> None:
    _make_corpus().write(tmp_path)
    written = sorted(path.name for path in tmp_path.iterdir())
    committed = sorted(path.name for path in CORPUS.iterdir() if path.name != "make_corpus.py" and path.is_file())
    assert committed == written
    for name in written:
        assert (CORPUS / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_the_corpus_covers_every_case() -> None:
    # Twenty-odd files; a glob that silently matched nothing would pass every parametrised test below.
    assert len(FILES) >= 20


def _read_all(binary: Any) -> None:
    # Some refusals come at open (binary, no email column), others while streaming (row limit, broken quote).
    list(intake_open(binary).rows)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_corpus_file_reads_as_expected(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    with path.open("rb") as binary:
        if "refused" in expected:
            with pytest.raises(CsvRefused) as refused:
                _read_all(binary)
            assert refused.value.message == expected["refused"]
            return
        intake = intake_open(binary)
        assert intake.encoding == expected["encoding"]
        assert intake.delimiter == expected["delimiter"]
        assert {mapped.column.letter: str(mapped.field) for mapped in intake.header.mapped} == expected["mapped"]
        assert [
            {"column": unknown.column.letter, "reason": unknown.reason} for unknown in intake.header.unknown
        ] == expected["unknown"]
        assert [_as_expected(row) for row in intake.rows] == expected["rows"]


def test_cells_are_kept_as_written_for_the_results_csv() -> None:
    with (CORPUS / "mixed_case_headers.csv").open("rb") as binary:
        intake = intake_open(binary)
        [row] = list(intake.rows)
    assert intake.header.columns[0].name == "EMAIL"
    assert row.cells[0] == "  Max@Example.COM  "
    assert row.cells[5] == " a;b;A ; "
