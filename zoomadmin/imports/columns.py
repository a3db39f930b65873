"""Matching a CSV file's header to the fields a bulk change can set.

Headers are matched after *normalising* them: case-folded, with everything but letters and digits
removed, so `First Name`, `first_name`, `FirstName`, `First-Name` and ` first name ` are one name.
Three families of spellings are known (every alias is listed in docs/bulk-changes.md):

- Zoom's portal import templates (reference §9): Email, First Name, Last Name, Department,
  Manager, User Group, Job Title, Location, and the older IM Group;
- SCIM attribute names (reference §4.1): `userName`, `name.givenName`, `displayName`, the
  enterprise extension's attributes in full (`urn:…:enterprise:2.0:User:employeeNumber`) or short;
- common names of the same things (Employee ID, Cost Center) and our own columns (Action, Groups,
  User Type, Active, Phone).

Portal columns that Zoom's SCIM API cannot set (Location, IM Group) are *unsupported*: reported
with the reason, like unknown columns, never silently dropped. Two columns meaning the same
field refuse the file (`ColumnConflict`), naming both. The plan page can override any of this with
an explicit `{column index: field or None}` mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from zoomadmin.imports.csvfile import CsvRefused

ENTERPRISE_URN: Final = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Field(StrEnum):
    """What a column holds. User attributes use the job engine's names (keys of `ChangeRow.after`)."""

    EMAIL = "email"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    DISPLAY_NAME = "display_name"
    USER_TYPE = "user_type"
    TITLE = "title"
    DEPARTMENT = "department"
    MANAGER = "manager"
    EMPLOYEE_NUMBER = "employee_number"
    COST_CENTER = "cost_center"
    ORGANIZATION = "organization"
    DIVISION = "division"
    PHONE = "phone"
    # Not user attributes: what to do with the row, group memberships, and the wanted active state.
    ACTION = "action"
    GROUPS = "groups"
    ACTIVE = "active"

    @property
    def label(self) -> str:
        """The field as the admin reads it in messages ("First name", "Employee number")."""
        return FIELD_LABELS[self]


FIELD_LABELS: Final[Mapping[Field, str]] = {
    Field.EMAIL: "Email",
    Field.FIRST_NAME: "First name",
    Field.LAST_NAME: "Last name",
    Field.DISPLAY_NAME: "Display name",
    Field.USER_TYPE: "User type",
    Field.TITLE: "Job title",
    Field.DEPARTMENT: "Department",
    Field.MANAGER: "Manager",
    Field.EMPLOYEE_NUMBER: "Employee number",
    Field.COST_CENTER: "Cost center",
    Field.ORGANIZATION: "Organization",
    Field.DIVISION: "Division",
    Field.PHONE: "Phone",
    Field.ACTION: "Action",
    Field.GROUPS: "Groups",
    Field.ACTIVE: "Active",
}

# The fields that are user attributes a row sets (everything but action, groups and active).
USER_FIELDS: Final = (
    Field.FIRST_NAME,
    Field.LAST_NAME,
    Field.DISPLAY_NAME,
    Field.USER_TYPE,
    Field.TITLE,
    Field.DEPARTMENT,
    Field.MANAGER,
    Field.EMPLOYEE_NUMBER,
    Field.COST_CENTER,
    Field.ORGANIZATION,
    Field.DIVISION,
    Field.PHONE,
)

# Every accepted spelling per field, as people write them; matching normalises both sides.
ALIASES: Final[Mapping[Field, tuple[str, ...]]] = {
    Field.EMAIL: (
        "Email",
        "E-mail",
        "Email Address",
        "Work Email",
        "userName",
        "User Name",
        "emails",
        "emails.value",
        'emails[type eq "work"].value',
        "emails[primary eq true].value",
    ),
    Field.FIRST_NAME: ("First Name", "Given Name", "name.givenName", "givenName"),
    Field.LAST_NAME: ("Last Name", "Surname", "Family Name", "name.familyName", "familyName"),
    Field.DISPLAY_NAME: ("Display Name", "displayName"),
    Field.USER_TYPE: ("User Type", "userType", "License Type"),
    Field.TITLE: ("Job Title", "title"),
    Field.DEPARTMENT: ("Department", f"{ENTERPRISE_URN}:department"),
    Field.MANAGER: ("Manager", "Manager Email", f"{ENTERPRISE_URN}:manager", "manager.value"),
    Field.EMPLOYEE_NUMBER: ("Employee ID", "Employee Number", "employeeNumber", f"{ENTERPRISE_URN}:employeeNumber"),
    Field.COST_CENTER: ("Cost Center", "Cost Centre", "costCenter", f"{ENTERPRISE_URN}:costCenter"),
    Field.ORGANIZATION: ("Organization", "Organisation", f"{ENTERPRISE_URN}:organization"),
    Field.DIVISION: ("Division", f"{ENTERPRISE_URN}:division"),
    Field.PHONE: (
        "Phone",
        "Phone Number",
        "Work Phone",
        "phoneNumbers",
        "phoneNumbers.value",
        'phoneNumbers[type eq "work"].value',
    ),
    Field.ACTION: ("Action",),
    Field.GROUPS: ("Groups", "Group", "User Group", "User Groups", "groups.display"),
    Field.ACTIVE: ("Active",),
}

# Portal template columns with no SCIM attribute behind them (reference §4.1 has no location or IM group).
UNSUPPORTED: Final[Mapping[str, str]] = {
    "Location": "Zoom's SCIM API has no location attribute, so this column cannot be applied",
    "IM Group": "Zoom's SCIM API cannot set IM groups (a column of the older portal template), "
    "so this column cannot be applied",
}

_NON_ALNUM_RE = re.compile(r"[\W_]+")


def header_key(name: str) -> str:
    """A header reduced for matching: case-folded, only letters and digits (`First_Name` → `firstname`)."""
    return _NON_ALNUM_RE.sub("", name.casefold())


_FIELD_BY_KEY: Final[Mapping[str, Field]] = {
    header_key(alias): field for field, aliases in ALIASES.items() for alias in aliases
}
_UNSUPPORTED_BY_KEY: Final[Mapping[str, str]] = {header_key(name): reason for name, reason in UNSUPPORTED.items()}


def column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet names it (0 → A, 25 → Z, 26 → AA)."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True, slots=True)
class Column:
    """One header cell: its 0-based position and its name as written (trimmed)."""

    index: int
    name: str

    @property
    def letter(self) -> str:
        """The column's spreadsheet letter (A, B, …, AA)."""
        return column_letter(self.index)

    @property
    def described(self) -> str:
        """The column for a sentence: `column C ("Job Title")`."""
        return f'column {self.letter} ("{self.name}")' if self.name else f"column {self.letter} (no name)"


@dataclass(frozen=True, slots=True)
class MappedColumn:
    """A column whose values go to `field`."""

    column: Column
    field: Field


@dataclass(frozen=True, slots=True)
class UnknownColumn:
    """A column nobody recognised (or that Zoom cannot set); its values are not used unless mapped.

    `reason` is a sentence for the admin.
    """

    column: Column
    reason: str


class ColumnConflict(CsvRefused):
    """Two columns map to the same field; the file is refused until one of them is ignored or remapped."""

    def __init__(self, field: Field, first: Column, second: Column) -> None:
        super().__init__(
            f"Both {first.described} and {second.described} are the {field.label} column; remove or rename one of them."
        )
        self.field = field
        self.columns = (first, second)


@dataclass(frozen=True, slots=True)
class HeaderMap:
    """The header's meaning: which column holds which field, and which columns are not used."""

    columns: tuple[Column, ...]
    mapped: tuple[MappedColumn, ...]
    unknown: tuple[UnknownColumn, ...]

    def index_of(self, field: Field) -> int | None:
        """The 0-based index of the column holding `field`, or None when the file has none."""
        for mapped in self.mapped:
            if mapped.field is field:
                return mapped.column.index
        return None

    @property
    def fields(self) -> frozenset[Field]:
        """The fields the file has a column for (an absent column means "leave unchanged")."""
        return frozenset(mapped.field for mapped in self.mapped)


def header_map(cells: Sequence[str], *, overrides: Mapping[int, Field | None] | None = None) -> HeaderMap:
    """Match the header `cells` to fields, applying `overrides` ({0-based index: field, or None to ignore}).

    Trailing empty header cells (trailing delimiters) are dropped. Refuses the file (`CsvRefused`)
    when no column holds the email, when two columns hold the same field (`ColumnConflict`), or when
    an override names a column the file does not have.
    """
    names = [cell.strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    columns = tuple(Column(index=index, name=name) for index, name in enumerate(names))
    overrides = dict(overrides or {})
    for index in overrides:
        if not 0 <= index < len(columns):
            raise CsvRefused(f"The file has no column {column_letter(index)} to map.")

    mapped: list[MappedColumn] = []
    unknown: list[UnknownColumn] = []
    taken: dict[Field, Column] = {}
    for column in columns:
        if column.index in overrides:
            field: Field | None = overrides[column.index]
            if field is None:
                continue
        else:
            key = header_key(column.name)
            field = _FIELD_BY_KEY.get(key)
            if field is None:
                unknown.append(UnknownColumn(column=column, reason=_unknown_reason(column, key)))
                continue
        if field in taken:
            raise ColumnConflict(field, taken[field], column)
        taken[field] = column
        mapped.append(MappedColumn(column=column, field=field))
    if Field.EMAIL not in taken:
        raise CsvRefused(
            "The file has no email column; the header line needs a column named Email (or userName), "
            "which says whose account each row changes."
        )
    return HeaderMap(columns=columns, mapped=tuple(mapped), unknown=tuple(unknown))


def _unknown_reason(column: Column, key: str) -> str:
    described = column.described[0].upper() + column.described[1:]
    unsupported = _UNSUPPORTED_BY_KEY.get(key)
    if unsupported is not None:
        return f"{described}: {unsupported}."
    if not column.name:
        return f"{described} has no name in the header line, so its values are not used."
    return f"{described} is not a column we know, so its values are not used."
