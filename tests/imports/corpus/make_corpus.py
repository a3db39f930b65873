"""Writes the corpus of awkward CSV files the intake is tested against, each with its expected result.

Run from the repository root: .venv/bin/python tests/imports/corpus/make_corpus.py
It (re)writes `<name>.csv` and `<name>.expected.json` beside itself; the files are committed so
they can be reviewed and opened in a spreadsheet. The expectations are written here by hand, never
computed by the code under test; `tests/imports/test_intake_corpus.py` checks that the committed
files match this script and that the intake reads each one as expected.

Expected result shapes:
- refused: {"refused": "<the sentence>"}
- read: {"encoding", "delimiter", "mapped": {column letter: field}, "unknown": [{"column", "reason"}],
  "rows": [{"line", "action", "email", "fields", "groups", "active"} or {"line", "error", "email"}]}
"""

from __future__ import annotations

import codecs
import io
import json
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

# ruff: noqa: RUF001 (the corpus is about typographic characters: smart quotes, dashes)

HERE = Path(__file__).resolve().parent


def intent(
    line: int,
    email: str,
    action: str = "upsert",
    fields: dict[str, str] | None = None,
    groups: list[str] | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    return {
        "line": line,
        "action": action,
        "email": email,
        "fields": fields or {},
        "groups": groups or [],
        "active": active,
    }


def error(line: int, message: str, email: str | None = None) -> dict[str, Any]:
    return {"line": line, "error": message, "email": email}


def read(
    encoding: str, delimiter: str, mapped: dict[str, str], rows: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "encoding": encoding,
        "delimiter": delimiter,
        "mapped": mapped,
        "unknown": extra.get("unknown", []),
        "rows": rows,
    }


def png() -> bytes:
    """A white PNG image of one pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def xlsx() -> bytes:
    """The smallest workbook-shaped ZIP, as an .xlsx renamed to .csv starts (fixed dates: same bytes each run)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            ("[Content_Types].xml", '<?xml version="1.0"?><Types/>'),
            ("xl/workbook.xml", '<?xml version="1.0"?><workbook><sheets/></workbook>'),
            ("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet><sheetData/></worksheet>'),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


PORTAL = {"A": "email", "B": "first_name", "C": "last_name", "D": "department", "E": "manager", "F": "groups"}

CASES: dict[str, tuple[bytes, dict[str, Any]]] = {
    # Zoom's current portal template, saved by Excel as "CSV UTF-8" without a BOM; CRLF lines.
    "portal_current_utf8": (
        (
            "Email,First Name,Last Name,Department,Manager,User Group,Job Title,Location\r\n"
            "ana.lopez@example.com,Ana,López,Sales,boss@example.com,Sales EMEA,Account Executive,Madrid\r\n"
            "juergen@example.com,Jürgen,Groß,,,,,\r\n"
        ).encode(),
        read(
            "UTF-8",
            ",",
            {**PORTAL, "G": "title"},
            [
                intent(
                    2,
                    "ana.lopez@example.com",
                    fields={
                        "first_name": "Ana",
                        "last_name": "López",
                        "title": "Account Executive",
                        "department": "Sales",
                        "manager": "boss@example.com",
                    },
                    groups=["Sales EMEA"],
                ),
                intent(3, "juergen@example.com", fields={"first_name": "Jürgen", "last_name": "Groß"}),
            ],
            unknown=[
                {
                    "column": "H",
                    "reason": 'Column H ("Location"): Zoom\'s SCIM API has no location attribute, '
                    "so this column cannot be applied.",
                }
            ],
        ),
    ),
    # The older portal template (with IM Group), UTF-8 with a BOM, semicolons (a European Excel).
    "portal_old_utf8_bom_semicolon": (
        (
            "\ufeffEmail;First Name;Last Name;Department;User Group;IM Group;Job Title;Location\n"
            'zoe@example.com;Zoë;Brontë;R&D;"Lab; Lab 2 ";lab-im;Researcher;\n'
        ).encode(),
        read(
            "UTF-8 with BOM",
            ";",
            {"A": "email", "B": "first_name", "C": "last_name", "D": "department", "E": "groups", "G": "title"},
            [
                intent(
                    2,
                    "zoe@example.com",
                    fields={"first_name": "Zoë", "last_name": "Brontë", "department": "R&D", "title": "Researcher"},
                    groups=["Lab", "Lab 2"],
                )
            ],
            unknown=[
                {
                    "column": "F",
                    "reason": 'Column F ("IM Group"): Zoom\'s SCIM API cannot set IM groups '
                    "(a column of the older portal template), so this column cannot be applied.",
                },
                {
                    "column": "H",
                    "reason": 'Column H ("Location"): Zoom\'s SCIM API has no location attribute, '
                    "so this column cannot be applied.",
                },
            ],
        ),
    ),
    # Excel's "Unicode text": UTF-16 LE with a BOM, tab-delimited, CRLF; groups quoted with ;.
    "excel_unicode_text_utf16le_tab": (
        (
            "Email\tFirst Name\tLast Name\tUser Group\tUser Type\r\n"
            'li.wei@example.com\tWei\t李\t"Eng; Beijing"\tLicensed\r\n'
            "\r\n"
            "sam@example.com\tSam\tO'Neil\t\tbasic\r\n"
        ).encode("utf-16"),
        read(
            "UTF-16 LE",
            "\t",
            {"A": "email", "B": "first_name", "C": "last_name", "D": "groups", "E": "user_type"},
            [
                intent(
                    2,
                    "li.wei@example.com",
                    fields={"first_name": "Wei", "last_name": "李", "user_type": "Licensed"},
                    groups=["Eng", "Beijing"],
                ),
                # Line 3 is blank: skipped, but counted.
                intent(4, "sam@example.com", fields={"first_name": "Sam", "last_name": "O'Neil", "user_type": "Basic"}),
            ],
        ),
    ),
    # SCIM attribute names, including the enterprise extension in full; UTF-16 BE with a BOM, commas.
    "scim_names_utf16be": (
        codecs.BOM_UTF16_BE
        + (
            "userName,name.givenName,name.familyName,displayName,title,userType,active,"
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,costCenter,"
            "organization,division,department,manager\n"
            "kim@example.com,Kim,Park,Kim P.,CFO,Licensed,true,E-001,CC-9,Acme,Finance,Treasury,ceo@example.com\n"
            "old@example.com,,,,,,FALSE,,,,,,\n"
        ).encode("utf-16-be"),
        read(
            "UTF-16 BE",
            ",",
            {
                "A": "email",
                "B": "first_name",
                "C": "last_name",
                "D": "display_name",
                "E": "title",
                "F": "user_type",
                "G": "active",
                "H": "employee_number",
                "I": "cost_center",
                "J": "organization",
                "K": "division",
                "L": "department",
                "M": "manager",
            },
            [
                intent(
                    2,
                    "kim@example.com",
                    fields={
                        "first_name": "Kim",
                        "last_name": "Park",
                        "display_name": "Kim P.",
                        "user_type": "Licensed",
                        "title": "CFO",
                        "department": "Treasury",
                        "manager": "ceo@example.com",
                        "employee_number": "E-001",
                        "cost_center": "CC-9",
                        "organization": "Acme",
                        "division": "Finance",
                    },
                    active=True,
                ),
                # Active false and no action column: a deactivation, which uses only the email.
                intent(3, "old@example.com", action="deactivate", active=False),
            ],
        ),
    ),
    # Windows-1252 (Excel's "CSV (Comma delimited)" on Windows): é, ü, smart quotes and an en dash.
    "cp1252_smart_quotes": (
        (
            "Email,First Name,Last Name,Job Title\r\n"
            "rene@example.com,René,Müller,“Chief” Engineer – Platform\r\n"
            "o.brien@example.com,Seán,O’Brien,\r\n"
        ).encode("cp1252"),
        read(
            "Windows-1252",
            ",",
            {"A": "email", "B": "first_name", "C": "last_name", "D": "title"},
            [
                intent(
                    2,
                    "rene@example.com",
                    fields={"first_name": "René", "last_name": "Müller", "title": "“Chief” Engineer – Platform"},
                ),
                intent(3, "o.brien@example.com", fields={"first_name": "Seán", "last_name": "O’Brien"}),
            ],
        ),
    ),
    # Excel's hidden "sep=;" first line, after a BOM: the header is still line 1.
    "excel_sep_line": (
        ("\ufeffsep=;\r\nEmail;First Name;Last Name\r\nmia@example.com;Mia;Rossi\r\n").encode(),
        read(
            "UTF-8 with BOM",
            ";",
            {"A": "email", "B": "first_name", "C": "last_name"},
            [intent(2, "mia@example.com", fields={"first_name": "Mia", "last_name": "Rossi"})],
        ),
    ),
    # Enterprise fields under everyday names, tab-delimited UTF-8.
    "enterprise_common_names_tab": (
        (
            b"E-mail\tEmployee ID\tCost Centre\tOrganisation\tDivision\tManager Email\tPhone\n"
            b"ivy@example.com\t00042\t4711\tAcme GmbH\tOps\tlead@example.com\t+49 (30) 1234-567 ext 12\n"
            b"joe@example.com\t\t\t\t\t\tcall me\n"
        ),
        read(
            "UTF-8",
            "\t",
            {
                "A": "email",
                "B": "employee_number",
                "C": "cost_center",
                "D": "organization",
                "E": "division",
                "F": "manager",
                "G": "phone",
            },
            [
                intent(
                    2,
                    "ivy@example.com",
                    fields={
                        "manager": "lead@example.com",
                        "employee_number": "00042",
                        "cost_center": "4711",
                        "organization": "Acme GmbH",
                        "division": "Ops",
                        "phone": "+49 (30) 1234-567 ext 12",
                    },
                ),
                error(
                    3,
                    'The phone "call me" is not a phone number (digits, spaces, + ( ) - . and an extension).',
                    "joe@example.com",
                ),
            ],
        ),
    ),
    # Header spellings in every style: case, underscores, run-together, hyphens, stray spaces.
    "mixed_case_headers": (
        (
            b" EMAIL ,first_name,LastName,Job-Title, user type ,GROUPS,ACTION,Employee_Number\n"
            b"  Max@Example.COM  , Max , Mustermann ,  , LICENSED , a;b;A ; ,UPDATE,7\n"
        ),
        read(
            "UTF-8",
            ",",
            {
                "A": "email",
                "B": "first_name",
                "C": "last_name",
                "D": "title",
                "E": "user_type",
                "F": "groups",
                "G": "action",
                "H": "employee_number",
            },
            [
                intent(
                    2,
                    "Max@Example.COM",
                    action="update",
                    fields={
                        "first_name": "Max",
                        "last_name": "Mustermann",
                        "user_type": "Licensed",
                        "employee_number": "7",
                    },
                    groups=["a", "b"],
                )
            ],
        ),
    ),
    # Quoted cells with newlines and doubled quotes, blank lines: lines count as the file has them.
    "quoted_newlines_blank_lines": (
        (
            b"Email,First Name,Last Name,Job Title\n"
            b"\n"
            b'ann@example.com,Ann,"Lee ""Junior""","Head of\nSales,\nEMEA"\n'
            b"\n"
            b"\n"
            b"bob@example.com,Bob,Stone,\n"
            b",,,\n"
            b"bad-email,Nope,Nope,\n"
        ),
        read(
            "UTF-8",
            ",",
            {"A": "email", "B": "first_name", "C": "last_name", "D": "title"},
            [
                intent(
                    3,
                    "ann@example.com",
                    fields={"first_name": "Ann", "last_name": 'Lee "Junior"', "title": "Head of\nSales,\nEMEA"},
                ),
                intent(8, "bob@example.com", fields={"first_name": "Bob", "last_name": "Stone"}),
                error(10, 'The email "bad-email" is not a valid email address.'),
            ],
        ),
    ),
    # Excel's trailing delimiters on every line, and ="00123" to keep leading zeros.
    "excel_trailing_delimiters": (
        (
            b"Email,First Name,Last Name,Employee Number,,,\r\n"
            b'pat@example.com,Pat,Kay,"=""00123""",,,\r\n'
            b"lou@example.com,Lou,Ray,,,,\r\n"
        ),
        read(
            "UTF-8",
            ",",
            {"A": "email", "B": "first_name", "C": "last_name", "D": "employee_number"},
            [
                intent(
                    2,
                    "pat@example.com",
                    fields={"first_name": "Pat", "last_name": "Kay", "employee_number": "00123"},
                ),
                intent(3, "lou@example.com", fields={"first_name": "Lou", "last_name": "Ray"}),
            ],
        ),
    ),
    # Too few cells (the missing ones are empty), too many empty ones (ignored), too many with values (error).
    "broken_rows": (
        (
            b"Email,First Name,Last Name\n"
            b"short@example.com,Only\n"
            b"extra-empty@example.com,Ext,Ra,,,\n"
            b"extra@example.com,Ex,Tra,Surplus,\n"
            b"just-email@example.com\n"
        ),
        read(
            "UTF-8",
            ",",
            {"A": "email", "B": "first_name", "C": "last_name"},
            [
                intent(2, "short@example.com", fields={"first_name": "Only"}),
                intent(3, "extra-empty@example.com", fields={"first_name": "Ext", "last_name": "Ra"}),
                error(
                    4,
                    "This line has a value in column D, beyond the header's 3 columns; "
                    "a value containing a comma must be in double quotes.",
                ),
                intent(5, "just-email@example.com"),
            ],
        ),
    ),
    # Every action in odd cases, the Active column, and the row errors an admin can make.
    "actions_and_row_errors": (
        (
            "Email,First Name,Last Name,Action,User Type,Active,Groups\n"
            "new@example.com,New,Person,Create,basic,,Staff\n"
            "upd@example.com,,Renamed,update,,,\n"
            "ups@example.com,Up,Sert,,on-prem,true,\n"
            "off@example.com,Ignored,Names,DEACTIVATE,,,Ignored\n"
            "back@example.com,,,Reactivate,,,\n"
            "gone@example.com,,,delete,,false,\n"
            "what@example.com,,,archive,,,\n"
            "type@example.com,Ty,Pe,,Premium,,\n"
            "nameless@example.com,,Solo,create,,,\n"
            "NEW@example.com,Again,Twice,update,,,\n"
            ",No,Email,,,,\n"
            "both@example.com,,,deactivate,,true,\n"
            "upd2@example.com,,,update,,false,\n"
            "maybe@example.com,,,,,perhaps,\n"
            f"long@example.com,{'x' * 65},Ok,,,,\n"
        ).encode(),
        read(
            "UTF-8",
            ",",
            {
                "A": "email",
                "B": "first_name",
                "C": "last_name",
                "D": "action",
                "E": "user_type",
                "F": "active",
                "G": "groups",
            },
            [
                intent(
                    2,
                    "new@example.com",
                    action="create",
                    fields={"first_name": "New", "last_name": "Person", "user_type": "Basic"},
                    groups=["Staff"],
                ),
                intent(3, "upd@example.com", action="update", fields={"last_name": "Renamed"}),
                intent(
                    4,
                    "ups@example.com",
                    fields={"first_name": "Up", "last_name": "Sert", "user_type": "On-Prem"},
                    active=True,
                ),
                intent(5, "off@example.com", action="deactivate"),
                intent(6, "back@example.com", action="reactivate"),
                intent(7, "gone@example.com", action="delete", active=False),
                error(
                    8,
                    'The action "archive" is unknown; use one of create, update, upsert, deactivate, reactivate '
                    "or delete (or leave it empty).",
                    "what@example.com",
                ),
                error(
                    9,
                    'The user type "Premium" is unknown; use Basic, Licensed, On-Prem, Pro or Corp.',
                    "type@example.com",
                ),
                error(
                    10,
                    "Creating a user needs a first name, which this line leaves empty.",
                    "nameless@example.com",
                ),
                error(
                    11,
                    "NEW@example.com is already on line 2; a user can appear only once in a file.",
                    "NEW@example.com",
                ),
                error(12, "The email is empty; every line needs the email of the user it changes."),
                error(13, "The action deactivate contradicts Active true.", "both@example.com"),
                error(
                    14,
                    "The action update contradicts Active false; to deactivate, use the action deactivate.",
                    "upd2@example.com",
                ),
                error(15, 'Active "perhaps" is neither true nor false.', "maybe@example.com"),
                error(16, "The first name is 65 characters long; Zoom takes at most 64.", "long@example.com"),
            ],
        ),
    ),
    # Columns nobody knows, one without a name: reported, their values unused.
    "unknown_columns": (
        (b"Email,Favourite Colour,,First Name\nrae@example.com,teal,x,Rae\n"),
        read(
            "UTF-8",
            ",",
            {"A": "email", "D": "first_name"},
            [intent(2, "rae@example.com", fields={"first_name": "Rae"})],
            unknown=[
                {
                    "column": "B",
                    "reason": 'Column B ("Favourite Colour") is not a column we know, so its values are not used.',
                },
                {
                    "column": "C",
                    "reason": "Column C (no name) has no name in the header line, so its values are not used.",
                },
            ],
        ),
    ),
    "empty": (b"", {"refused": "The file is empty."}),
    "blank_lines_only": (b"\r\n\r\n  \r\n", {"refused": "The file is empty."}),
    "headers_only": (
        b"Email,First Name,Last Name\r\n\r\n,,\r\n",
        {"refused": "The file has a header line but no rows of users below it."},
    ),
    "no_email_column": (
        b"First Name,Last Name\nAnn,Lee\n",
        {
            "refused": "The file has no email column; the header line needs a column named Email (or userName), "
            "which says whose account each row changes."
        },
    ),
    "duplicate_email_columns": (
        b"userName,First Name,emails\na@example.com,A,a@example.com\n",
        {
            "refused": 'Both column A ("userName") and column C ("emails") are the Email column; '
            "remove or rename one of them."
        },
    ),
    "xlsx_renamed": (
        xlsx(),
        {
            "refused": "This looks like an Excel workbook (.xlsx); save it as CSV (Save As, then CSV UTF-8) "
            "and upload that."
        },
    ),
    "png_renamed": (png(), {"refused": "This file is a PNG image, not a CSV file."}),
    "nul_bytes": (
        b"Email,First Name\na@example.com,A\x00\x00\x00B\n",
        {"refused": "This file contains binary data, not text; upload the users as a CSV file."},
    ),
    "control_characters": (
        bytes(range(1, 9)) * 40 + b"\nEmail\n",
        {"refused": "This file does not look like text; upload the users as a CSV file."},
    ),
}


def write(directory: Path) -> None:
    """Write every case's file and expectation into `directory`."""
    for name, (data, expected) in CASES.items():
        (directory / f"{name}.csv").write_bytes(data)
        (directory / f"{name}.expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
