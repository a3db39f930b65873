"""From a CSV file's records to validated row intents: what each line asks for, or why it cannot be done.

`intake_open` is the entry point: it opens the file (`csvfile.csv_open`), matches its header
(`columns.header_map`) and returns an `Intake` whose `rows` is a lazy generator of `RowIntent`
(a valid line) and `RowError` (a line with a sentence saying what to fix), in file order, so a
100,000-row file streams through without being held in memory. Nothing here looks at Zoom or the
local mirror: whether a user exists, whether a group exists, and whether an upsert creates (and so
needs names) are for the plan stage, which consumes these intents.

Rules a row follows (docs/bulk-changes.md explains them to admins):

- Action: `create`, `update`, `upsert` (the default), `deactivate`, `reactivate`, `delete`, in any case.
- An empty cell leaves that attribute unchanged (for a create: not set); a column the file does not
  have also leaves it unchanged. So `fields` holds only non-empty values of columns present.
- `deactivate`, `reactivate` and `delete` use only the email; other cells are kept for the results CSV.
- `Active` false with no action means deactivate; true means upsert and make sure the user is active.
- Groups are separated by `;` and *added* (memberships not listed are left alone).
- An email appears once per file (case-insensitively); later lines naming it are errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Final

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from zoomadmin.imports.columns import USER_FIELDS, Field, HeaderMap, column_letter, header_key, header_map
from zoomadmin.imports.csvfile import DEFAULT_MAX_ROWS, DELIMITER_NAMES, Record, csv_open
from zoomadmin.spreadsheet import csv_cell_undone


class RowAction(StrEnum):
    """What a row asks for; the values are those of `imports.models.Action`."""

    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DELETE = "delete"


DEFAULT_ACTION: Final = RowAction.UPSERT
# Actions that set attributes; the others only need to know whose account it is.
SETTING_ACTIONS: Final = frozenset({RowAction.CREATE, RowAction.UPDATE, RowAction.UPSERT})
# Zoom's portal template requires these for a new user (reference §9); SCIM's create sends `name` too.
CREATE_REQUIRED: Final = (Field.FIRST_NAME, Field.LAST_NAME)

# Zoom's `userType` values (reference §4.1); legacy Pro and Corp are still accepted by Zoom from Okta.
USER_TYPES: Final = ("Basic", "Licensed", "On-Prem", "Pro", "Corp")
_USER_TYPE_BY_KEY: Final = {header_key(name): name for name in USER_TYPES}

# Longest values Zoom takes. The SCIM reference gives none (§4.1): names follow Zoom's users API
# (first and last name at most 64 characters); the rest are the sandbox's limits; emails RFC 5321's.
MAX_LENGTHS: Final[Mapping[Field, int]] = {
    Field.EMAIL: 254,
    Field.FIRST_NAME: 64,
    Field.LAST_NAME: 64,
    Field.DISPLAY_NAME: 200,
    Field.TITLE: 200,
    Field.DEPARTMENT: 200,
    Field.MANAGER: 254,
    Field.EMPLOYEE_NUMBER: 100,
    Field.COST_CENTER: 200,
    Field.ORGANIZATION: 200,
    Field.DIVISION: 200,
    Field.PHONE: 64,
}
# Group names as the sandbox and Zoom's "DisplayName" check take them.
GROUP_NAME_MAX_LENGTH: Final = 200
GROUP_SEPARATOR: Final = ";"

_TRUE: Final = frozenset({"true", "yes", "y", "1", "active"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "inactive"})
# Excel users write ="00123" to keep leading zeros; the CSV then holds the formula text.
_EXCEL_TEXT_RE = re.compile(r'^="(.*)"$', re.DOTALL)
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().\-/]*(?:\s*(?:x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
_email_validator = EmailValidator()


@dataclass(frozen=True, slots=True)
class RowIntent:
    """A valid line: what to do to whose account, with which values.

    `email` is as written (trimmed), for display; `email_key` is the lowercase form that identifies
    the user. `fields` maps user attributes (`columns.USER_FIELDS` values, the job engine's names)
    to their wanted value, only for non-empty cells of columns present: anything else stays as it
    is. `groups` are group names to add the user to. `active` is the `Active` column's value (None
    without one). `cells` are the line's cells as written, for the results CSV.
    """

    line: int
    action: RowAction
    email: str
    fields: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    active: bool | None = None
    cells: tuple[str, ...] = ()

    @property
    def email_key(self) -> str:
        """The email as it identifies a user: lowercase (Zoom's user names are case-insensitive)."""
        return self.email.lower()

    def create_missing(self) -> tuple[Field, ...]:
        """The fields a create needs that this row does not give (empty when it can create)."""
        return tuple(name for name in CREATE_REQUIRED if not self.fields.get(name))

    def create_refusal(self) -> str | None:
        """Why this row cannot create its user (for an upsert whose user turns out not to exist), or None."""
        missing = self.create_missing()
        return _create_refusal(missing) if missing else None


@dataclass(frozen=True, slots=True)
class RowError:
    """A line that cannot be used: `message` says what to fix; `email` when the line has a usable one."""

    line: int
    message: str
    email: str | None = None
    cells: tuple[str, ...] = ()

    @property
    def described(self) -> str:
        """The error with its line, as the plan page lists it: "Line 7: …"."""
        return f"Line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Intake:
    """An opened, header-matched CSV file; iterate `rows` once to get its lines."""

    encoding: str
    delimiter: str
    header: HeaderMap
    rows: Iterator[RowIntent | RowError]

    @property
    def delimiter_name(self) -> str:
        """The delimiter in words ("comma", "semicolon", "tab")."""
        return DELIMITER_NAMES[self.delimiter]


def intake_open(
    binary: IO[bytes],
    *,
    overrides: Mapping[int, Field | None] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Intake:
    """Open an uploaded CSV file for a bulk change: decode, match the header, and validate rows lazily.

    `binary` is the uploaded file at its start (Django's `UploadedFile` or an open file); it must
    stay open while `rows` is consumed. `overrides` maps 0-based column indexes to a field, or to
    None to ignore the column (the plan page's column mapping). Refuses the file with `CsvRefused`
    (`message` says why) when it is empty, binary, header-only or has no email column, or two
    columns for one field (`ColumnConflict`); iterating `rows` raises `CsvRefused` past `max_rows`.
    The caller checks the upload's size first with `csvfile.size_check`.
    """
    stream = csv_open(binary, max_rows=max_rows)
    header = header_map(stream.header.cells, overrides=overrides)
    return Intake(
        encoding=stream.encoding,
        delimiter=stream.delimiter,
        header=header,
        rows=rows_validate(stream, header=header, delimiter=stream.delimiter),
    )


def rows_validate(
    records: Iterable[Record], *, header: HeaderMap, delimiter: str = ","
) -> Iterator[RowIntent | RowError]:
    """Validate `records` (data lines of a file whose header is `header`), lazily, in order.

    Keeps one dictionary entry per email seen (to report duplicates with the first line), nothing else.
    """
    seen: dict[str, int] = {}
    positions = [(mapped.field, mapped.column.index) for mapped in header.mapped]
    width = len(header.columns)
    for record in records:
        yield _row_validate(record, positions=positions, width=width, delimiter=delimiter, seen=seen)


def _row_validate(
    record: Record, *, positions: list[tuple[Field, int]], width: int, delimiter: str, seen: dict[str, int]
) -> RowIntent | RowError:
    cells = tuple(record.cells)
    values = {name: _value(cells[index]) if index < len(cells) else "" for name, index in positions}
    email = values[Field.EMAIL]

    def error(message: str, *, usable_email: bool = True) -> RowError:
        return RowError(line=record.line, message=message, email=email if usable_email and email else None, cells=cells)

    extra = next((index for index in range(width, len(cells)) if cells[index].strip()), None)
    if extra is not None:
        return error(
            f"This line has a value in column {column_letter(extra)}, beyond the header's {width} columns; "
            f"a value containing a {DELIMITER_NAMES.get(delimiter, 'delimiter')} must be in double quotes.",
            usable_email=False,
        )
    if not email:
        return error("The email is empty; every line needs the email of the user it changes.")
    email_problem = _email_problem(email, Field.EMAIL)
    if email_problem:
        return error(email_problem, usable_email=False)
    first_line = seen.setdefault(email.lower(), record.line)
    if first_line != record.line:
        return error(f"{email} is already on line {first_line}; a user can appear only once in a file.")

    problems: list[str] = []
    action = _action(values.get(Field.ACTION, ""), problems)
    active = _active(values.get(Field.ACTIVE, ""), problems)
    action = _action_with_active(action, active, explicit=bool(values.get(Field.ACTION)), problems=problems)
    fields: dict[str, str] = {}
    groups: tuple[str, ...] = ()
    # An unknown action still gets its values checked, so the admin sees every problem at once.
    if action is None or action in SETTING_ACTIONS:
        for name in USER_FIELDS:
            value = values.get(name, "")
            if value:
                checked = _field_check(name, value, problems)
                if checked is not None:
                    fields[name.value] = checked
        groups = _groups(values.get(Field.GROUPS, ""), problems)
    if action is RowAction.CREATE:
        missing = tuple(name for name in CREATE_REQUIRED if not values.get(name))
        if missing:
            problems.append(_create_refusal(missing))
    if problems or action is None:
        return error(" ".join(problems))
    return RowIntent(
        line=record.line, action=action, email=email, fields=fields, groups=groups, active=active, cells=cells
    )


def _value(cell: str) -> str:
    # An exported cell that starts like a formula has a leading apostrophe (spreadsheet.csv_cell);
    # only that exact shape is undone, so "'quoted'" or "'Brien" stay as written.
    value = csv_cell_undone(cell).strip()
    excel = _EXCEL_TEXT_RE.match(value)
    return excel.group(1).strip() if excel else value


def _email_problem(value: str, name: Field) -> str | None:
    if len(value) > MAX_LENGTHS[name]:
        return f"The {name.label.lower()} {value[:40]}… is longer than {MAX_LENGTHS[name]} characters."
    try:
        _email_validator(value)
    except ValidationError:
        return f'The {name.label.lower()} "{value}" is not a valid email address.'
    return None


def _action(value: str, problems: list[str]) -> RowAction | None:
    if not value:
        return DEFAULT_ACTION
    try:
        return RowAction(value.lower())
    except ValueError:
        problems.append(f'The action "{value}" is unknown; use one of {_or_list(list(RowAction))} (or leave it empty).')
        return None


def _active(value: str, problems: list[str]) -> bool | None:
    if not value:
        return None
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    problems.append(f'Active "{value}" is neither true nor false.')
    return None


def _action_with_active(
    action: RowAction | None, active: bool | None, *, explicit: bool, problems: list[str]
) -> RowAction | None:
    """The row's action once the Active column is taken into account (None if they contradict)."""
    if action is None or active is None or action is RowAction.DELETE:
        return action
    if not explicit:
        return RowAction.DEACTIVATE if active is False else action
    if active is False and action is not RowAction.DEACTIVATE:
        problems.append(f"The action {action} contradicts Active false; to deactivate, use the action deactivate.")
        return None
    if active is True and action is RowAction.DEACTIVATE:
        problems.append("The action deactivate contradicts Active true.")
        return None
    return action


def _field_check(name: Field, value: str, problems: list[str]) -> str | None:
    if name is Field.USER_TYPE:
        canonical = _USER_TYPE_BY_KEY.get(header_key(value))
        if canonical is None:
            problems.append(f'The user type "{value}" is unknown; use {_or_list(list(USER_TYPES))}.')
        return canonical
    if name is Field.MANAGER:
        problem = _email_problem(value, name)
        if problem:
            problems.append(f"{problem} Zoom keeps the manager as an email address.")
            return None
        return value
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        problems.append(f"The {name.label.lower()} is {len(value)} characters long; Zoom takes at most {limit}.")
        return None
    if name is Field.PHONE and not _PHONE_RE.match(value):
        problems.append(f'The phone "{value}" is not a phone number (digits, spaces, + ( ) - . and an extension).')
        return None
    return value


def _groups(value: str, problems: list[str]) -> tuple[str, ...]:
    names: dict[str, str] = {}
    for part in value.split(GROUP_SEPARATOR):
        name = part.strip()
        if not name:
            continue
        if len(name) > GROUP_NAME_MAX_LENGTH:
            problems.append(
                f'The group name "{name[:40]}…" is longer than {GROUP_NAME_MAX_LENGTH} characters; '
                f"separate several groups with {GROUP_SEPARATOR}."
            )
            continue
        # The same group twice (in any case) is one membership.
        names.setdefault(name.casefold(), name)
    return tuple(names.values())


def _create_refusal(missing: tuple[Field, ...]) -> str:
    needed = _and_list([f"a {name.label.lower()}" for name in missing])
    return f"Creating a user needs {needed}, which this line leaves empty."


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _or_list(words: list[str]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}"
