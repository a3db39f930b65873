"""The CSV intake's behaviour beyond the corpus: streaming, chunk boundaries, limits, uploads, header mapping."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from zoomadmin.imports import engine
from zoomadmin.imports.columns import ALIASES, USER_FIELDS, ColumnConflict, Field, column_letter, header_key, header_map
from zoomadmin.imports.csvfile import CHUNK_SIZE, CsvRefused, csv_open, size_check
from zoomadmin.imports.models import Action
from zoomadmin.imports.rows import RowAction, RowError, RowIntent, intake_open


class CountingFile(io.RawIOBase):
    """A binary file that remembers how many bytes were asked of it, and the largest single read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.total = 0
        self.largest = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.total += len(chunk)
        self.largest = max(self.largest, len(chunk))
        return chunk


def users_csv(count: int, *, header: str = "Email,First Name,Last Name\n") -> bytes:
    rows = "".join(f"user{n}@example.com,Given{n},Family{n}\n" for n in range(count))
    return (header + rows).encode()


def rows_of(data: bytes, **kwargs: Any) -> list[RowIntent | RowError]:
    return list(intake_open(io.BytesIO(data), **kwargs).rows)


# --- reading as a stream -----------------------------------------------------------------------------


def test_opening_reads_only_the_first_chunk_and_rows_are_read_as_they_are_consumed() -> None:
    data = users_csv(50_000)
    assert len(data) > 20 * CHUNK_SIZE
    source = CountingFile(data)
    intake = intake_open(source)
    assert source.total <= 2 * CHUNK_SIZE
    first_hundred = [next(intake.rows) for _ in range(100)]
    assert source.total <= 2 * CHUNK_SIZE
    assert [row.line for row in first_hundred] == list(range(2, 102))
    rest = list(intake.rows)
    assert source.total == len(data)
    assert source.largest <= CHUNK_SIZE
    assert len(rest) == 50_000 - 100
    assert rest[-1] == RowIntent(
        line=50_001,
        action=RowAction.UPSERT,
        email="user49999@example.com",
        fields={"first_name": "Given49999", "last_name": "Family49999"},
        cells=("user49999@example.com", "Given49999", "Family49999"),
    )


def test_a_windows_1252_byte_far_below_the_first_chunk_of_a_utf8_file_is_read_as_its_character() -> None:
    data = users_csv(5_000) + "late@example.com,Ren\xe9,M\xfcller\n".encode("cp1252")
    assert len(data) > 2 * CHUNK_SIZE
    intake = intake_open(io.BytesIO(data))
    assert intake.encoding == "UTF-8"
    last = list(intake.rows)[-1]
    assert isinstance(last, RowIntent)
    assert last.fields == {"first_name": "René", "last_name": "Müller"}


def test_a_utf8_character_split_across_two_chunks_is_decoded_whole() -> None:
    header = "Email,First Name,Last Name\n"
    filler = "a" * (CHUNK_SIZE - len(header) - len("x@example.com,") - 1)
    data = f"{header}x@example.com,{filler}é,Z\n".encode()
    # The two bytes of "é" straddle the end of the first chunk.
    assert data[CHUNK_SIZE - 1 : CHUNK_SIZE + 1] == "é".encode()
    intake = intake_open(io.BytesIO(data))
    assert intake.encoding == "UTF-8"
    [row] = list(intake.rows)
    assert isinstance(row, RowError)  # the first name is far too long: but it is decoded right
    assert row.message == f"The first name is {len(filler) + 1} characters long; Zoom takes at most 64."
    assert row.cells[1].endswith("aé")


def test_more_rows_than_allowed_are_refused_while_streaming() -> None:
    intake = intake_open(io.BytesIO(users_csv(5)), max_rows=3)
    seen = []
    with pytest.raises(CsvRefused) as refused:
        seen.extend(intake.rows)
    assert len(seen) == 3
    assert refused.value.message == "The file has more than 3 rows of users; split it into files of at most 3 rows."


def test_exactly_the_allowed_number_of_rows_is_read() -> None:
    assert len(rows_of(users_csv(3), max_rows=3)) == 3


def test_size_check_refuses_files_over_the_limit_with_their_size() -> None:
    size_check(1024, max_bytes=1024)
    with pytest.raises(CsvRefused) as refused:
        size_check(3 * 1024 * 1024 + 1, max_bytes=2 * 1024 * 1024)
    assert refused.value.message == (
        "The file is 3.0 MB, over the limit of 2.0 MB; split it into smaller files and upload them one by one."
    )


@pytest.mark.parametrize("upload_class", [SimpleUploadedFile, TemporaryUploadedFile])
def test_django_uploads_are_read_and_left_open(upload_class: type[Any]) -> None:
    data = users_csv(3)
    if upload_class is SimpleUploadedFile:
        upload = SimpleUploadedFile("users.csv", data, content_type="text/csv")
    else:
        upload = TemporaryUploadedFile("users.csv", "text/csv", len(data), None)
        upload.write(data)
        upload.seek(0)
    intake = intake_open(upload)
    emails = [row.email for row in intake.rows]
    del intake
    assert emails == ["user0@example.com", "user1@example.com", "user2@example.com"]
    assert not upload.closed
    upload.close()


# --- encodings and delimiters --------------------------------------------------------------------------


@pytest.mark.parametrize(("codec", "name"), [("utf-16-le", "UTF-16 LE"), ("utf-16-be", "UTF-16 BE")])
def test_utf16_without_a_bom_is_recognised_by_its_nul_pattern(codec: str, name: str) -> None:
    intake = intake_open(io.BytesIO("Email\tFirst Name\nana@example.com\tAna\n".encode(codec)))
    assert (intake.encoding, intake.delimiter_name) == (name, "tab")
    assert [row.email for row in intake.rows] == ["ana@example.com"]


def test_utf32_with_a_bom_is_read() -> None:
    intake = intake_open(io.BytesIO("Email;First Name\nana@example.com;Ána\n".encode("utf-32")))
    assert intake.encoding == "UTF-32"
    [row] = list(intake.rows)
    assert isinstance(row, RowIntent)
    assert row.fields == {"first_name": "Ána"}


def test_a_truncated_utf16_file_is_refused() -> None:
    data = "Email\nana@example.com\n".encode("utf-16")[:-1]
    with pytest.raises(CsvRefused) as refused:
        list(intake_open(io.BytesIO(data)).rows)
    assert refused.value.message == "The file could not be read as UTF-16 LE text; save it again as CSV UTF-8."


def test_an_excel_97_workbook_is_refused_with_what_to_do() -> None:
    with pytest.raises(CsvRefused) as refused:
        intake_open(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600))
    assert refused.value.message == (
        "This looks like an Excel 97-2003 workbook (.xls); save it as CSV (Save As, then CSV UTF-8) and upload that."
    )


def test_a_sep_line_naming_another_delimiter_is_refused() -> None:
    with pytest.raises(CsvRefused) as refused:
        intake_open(io.BytesIO(b"sep=|\nEmail|Name\na@example.com|A\n"))
    assert (
        refused.value.message == "The file's first line asks for the delimiter '|'; use a comma, a semicolon or a tab."
    )


def test_delimiters_inside_quoted_header_names_do_not_count() -> None:
    intake = intake_open(io.BytesIO(b'"Name, given, as in passport";Email;Department\nAna;ana@example.com;Ops\n'))
    assert intake.delimiter == ";"
    assert [unknown.column.name for unknown in intake.header.unknown] == ["Name, given, as in passport"]


def test_a_one_column_file_reads_with_the_delimiter_of_the_rows_below() -> None:
    stream = csv_open(io.BytesIO(b"Email\nana@example.com\nbo@example.com\n"))
    assert stream.delimiter == ","
    assert [record.cells for record in stream] == [["ana@example.com"], ["bo@example.com"]]


def test_blank_lines_above_the_header_are_skipped_and_the_header_stays_line_1() -> None:
    stream = csv_open(io.BytesIO(b"\n\n,,\nEmail,Name\n\na@example.com,A\n"))
    assert stream.header.line == 1
    assert [record.line for record in stream] == [3]


def test_old_mac_line_endings_count_as_lines() -> None:
    rows = rows_of(b"Email,First Name\ra@example.com,A\r\rb@example.com,B\r")
    assert [row.line for row in rows] == [2, 4]


# --- header mapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["first_name", "FirstName", "first name", "First-Name", " FIRST NAME ", "givenName"]
)
def test_header_spellings_match_whatever_the_case_spacing_and_punctuation(spelling: str) -> None:
    header = header_map(["Email", spelling])
    assert header.index_of(Field.FIRST_NAME) == 1
    assert header.unknown == ()


def test_every_alias_matches_its_own_field_and_no_other() -> None:
    fields_by_key: dict[str, set[Field]] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            fields_by_key.setdefault(header_key(alias), set()).add(field)
    assert {key: fields for key, fields in fields_by_key.items() if len(fields) > 1} == {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            cells = [alias] if field is Field.EMAIL else ["Email", alias]
            assert header_map(cells).index_of(field) == len(cells) - 1, alias


def test_the_enterprise_urn_form_matches() -> None:
    header = header_map(["Email", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"])
    assert header.index_of(Field.EMPLOYEE_NUMBER) == 1


def test_overrides_map_an_unknown_column_and_ignore_a_known_one() -> None:
    header = header_map(["Email", "Badge", "Department"], overrides={1: Field.EMPLOYEE_NUMBER, 2: None})
    assert [(mapped.column.name, mapped.field) for mapped in header.mapped] == [
        ("Email", Field.EMAIL),
        ("Badge", Field.EMPLOYEE_NUMBER),
    ]
    assert header.unknown == ()
    assert header.fields == frozenset({Field.EMAIL, Field.EMPLOYEE_NUMBER})


def test_overrides_apply_to_the_rows() -> None:
    rows = rows_of(b"Email,Badge,Department\na@example.com,007,Ops\n", overrides={1: Field.EMPLOYEE_NUMBER, 2: None})
    assert [row.fields for row in rows if isinstance(row, RowIntent)] == [{"employee_number": "007"}]


def test_an_override_onto_a_field_another_column_holds_is_refused_naming_both() -> None:
    with pytest.raises(ColumnConflict) as conflict:
        header_map(["Email", "Dept", "Department"], overrides={1: Field.DEPARTMENT})
    assert conflict.value.message == (
        'Both column B ("Dept") and column C ("Department") are the Department column; remove or rename one of them.'
    )
    assert [column.index for column in conflict.value.columns] == [1, 2]


def test_an_override_of_a_missing_column_is_refused() -> None:
    with pytest.raises(CsvRefused) as refused:
        header_map(["Email", "Department"], overrides={4: Field.TITLE})
    assert refused.value.message == "The file has no column E to map."


def test_ignoring_the_email_column_refuses_the_file() -> None:
    with pytest.raises(CsvRefused) as refused:
        header_map(["Email", "Department"], overrides={0: None})
    assert refused.value.message.startswith("The file has no email column;")


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters_are_the_spreadsheet_ones(index: int, letter: str) -> None:
    assert column_letter(index) == letter


# --- rows ----------------------------------------------------------------------------------------------


def test_row_actions_are_actions_of_the_change_set_ledger() -> None:
    assert {str(action) for action in RowAction} <= set(Action.values)


def test_every_field_the_job_engine_sets_has_a_column() -> None:
    assert set(engine.USER_FIELDS) <= {str(field) for field in USER_FIELDS}


def test_an_upsert_without_names_says_why_it_cannot_create_when_asked() -> None:
    rows = rows_of(b"Email,First Name,Last Name\nana@example.com,,Lee\nbo@example.com,Bo,Ek\n")
    unnamed, named = rows
    assert isinstance(unnamed, RowIntent)
    assert isinstance(named, RowIntent)
    assert unnamed.create_missing() == (Field.FIRST_NAME,)
    assert unnamed.create_refusal() == "Creating a user needs a first name, which this line leaves empty."
    assert named.create_refusal() is None


def test_the_email_keeps_its_casing_for_display_and_is_matched_in_lowercase() -> None:
    [row] = rows_of(b"Email\nAna.Lopez@Example.COM\n")
    assert isinstance(row, RowIntent)
    assert (row.email, row.email_key) == ("Ana.Lopez@Example.COM", "ana.lopez@example.com")


def test_an_email_longer_than_zoom_takes_is_a_row_error() -> None:
    email = "a" * 64 + "@" + "b" * 185 + ".example.com"
    [row] = rows_of(f"Email\n{email}\n".encode())
    assert isinstance(row, RowError)
    assert row.message == f"The email {email[:40]}… is longer than 254 characters."
    assert row.email is None


def test_a_group_name_longer_than_zoom_takes_is_a_row_error() -> None:
    [row] = rows_of(f"Email,Groups\nana@example.com,Ops;{'g' * 201}\n".encode())
    assert isinstance(row, RowError)
    assert row.message == (
        f'The group name "{"g" * 40}…" is longer than 200 characters; separate several groups with ;.'
    )
    assert row.described.startswith("Line 2: The group name")


def test_an_invalid_manager_email_is_a_row_error() -> None:
    [row] = rows_of(b"Email,Manager\nana@example.com,the boss\n")
    assert isinstance(row, RowError)
    assert (
        row.message
        == 'The manager "the boss" is not a valid email address. Zoom keeps the manager as an email address.'
    )


def test_duplicates_name_the_first_line_even_when_it_had_an_error() -> None:
    rows = rows_of(b"Email,Action\nana@example.com,explode\n\nANA@EXAMPLE.COM,update\nana@example.com,\n")
    assert [(row.line, isinstance(row, RowError)) for row in rows] == [(2, True), (4, True), (5, True)]
    assert rows[1].message == "ANA@EXAMPLE.COM is already on line 2; a user can appear only once in a file."
    assert rows[2].message == "ana@example.com is already on line 2; a user can appear only once in a file."


def test_a_quote_that_is_never_closed_refuses_the_file_at_its_line() -> None:
    data = users_csv(3) + b'broken@example.com,"Unclosed,X\n' + users_csv(20_000, header="")
    intake = intake_open(io.BytesIO(data))
    with pytest.raises(CsvRefused) as refused:
        list(intake.rows)
    assert refused.value.message == (
        "The file cannot be read from line 5 on: a cell there is far too long, "
        "probably because a double quote is never closed."
    )
