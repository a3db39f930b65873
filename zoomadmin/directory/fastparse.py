"""The fast path for reading Zoom's list pages: plain dict access into typed rows.

scim2-models costs about 240 µs per list item (docs/benchmarks.md), which alone is slower than
Zoom's rate limit lets pages arrive for a large account, so the sync reads List users and List
groups pages here instead. The rules are the ones `zoomadmin.zoom.models` applies, and
tests/directory/test_fastparse.py holds the two to reading the same payloads the same way:

- `roles`, `groups`, `emails`, `phoneNumbers` and group `members` come as one object or an array;
- the enterprise `manager` is an email string, or a complex value read as its `value`;
- booleans may come as strings (`"False"`), read as pydantic reads them;
- attributes nobody declared are ignored;
- a value of the wrong type makes the whole payload unreadable (`Unreadable`), as it makes
  scim2-models refuse the page, so a page is never half-read.

Attribute names are matched exactly as Zoom spells them (camelCase); the scim2-models path also
accepts other casings, which Zoom does not send.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zoomadmin.zoom.models import (
    ENTERPRISE_USER_SCHEMA,
    ZOOM_GROUP_SCHEMA,
    ZOOM_LOGIN_SCHEMA,
    ZOOM_PROFILE_SCHEMA,
    ZoomEnterpriseUser,
    ZoomGroup,
    ZoomLoginExtension,
    ZoomProfileExtension,
    ZoomUser,
)

# The zoom:1.0:User attributes that are licenses or features (ZoomProfileExtension's flags); the
# rest of that block is profile text (pronouns, personalLinkName) or write-only phone provisioning.
LICENSE_ATTRIBUTES = (
    "zoomUnited",
    "zoomOneBizPlus",
    "zoomOneEdu",
    "zoomOneEntPremier",
    "zoomIQ",
    "zoomCustomerManagedKey",
    "zoomWhiteboard",
    "zoomWhiteboardPlus",
    "zoomTranslatedCaptions",
    "zoomHuddles",
)
_STRING_LICENSES = frozenset({"zoomUnited", "zoomOneBizPlus", "zoomOneEdu", "zoomOneEntPremier"})
# pydantic's lax booleans (what scim2-models accepts).
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


class Unreadable(ValueError):
    """A payload the fast parser cannot read (the scim2-models path refuses it too)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """The Get-user-only fields of a full profile (absent from List users)."""

    title: str
    locale: str
    organization: str
    division: str
    cost_center: str
    manager: str
    phone_numbers: list[dict[str, str]]
    licenses: dict[str, bool | str]
    pronouns: str
    personal_link_name: str


@dataclass(frozen=True, slots=True)
class UserRow:
    """One user as a list page (or a Get user answer) describes it."""

    zoom_id: str
    user_name: str
    # The sign-in email, lowercased: `userName`, else the primary (or first) email.
    email: str
    given_name: str
    family_name: str
    display_name: str
    active: bool
    user_type: str
    role: str
    department: str
    employee_number: str
    login_work_email: bool | None
    login_sso: bool | None
    group_ids: tuple[str, ...]
    # `groups` came as an array: the server lists every group there (not only the first one).
    groups_listed: bool
    zoom_created_at: datetime | None
    zoom_modified_at: datetime | None
    # The Get-user-only fields, when the payload is a full profile (it carries the zoom:1.0:User block).
    profile: Profile | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One group as a list page (or Get group) describes it; `member_ids` None = not listed."""

    zoom_id: str
    display_name: str
    email_alias: str
    zoom_modified_at: datetime | None
    member_ids: tuple[str, ...] | None


def canonical_json(item: dict[str, Any]) -> str:
    """A payload as JSON text with sorted keys: the same text whatever order Zoom sent the keys in."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def text_hash(text: str) -> str:
    """The digest of a payload's `canonical_json` text."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def payload_hash(item: dict[str, Any]) -> str:
    """A digest of a payload, stable across key order: equal hashes mean Zoom said the same thing."""
    return text_hash(canonical_json(item))


def _str(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise Unreadable(f"{what} is not a string")


def _opt_bool(value: Any, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise Unreadable(f"{what} is not a boolean")


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise Unreadable(f"{what} is not an object")


def _objects(value: Any, what: str) -> list[dict[str, Any]]:
    """A multi-valued attribute as a list of objects (Zoom sends one object or an array)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise Unreadable(f"{what} is not a list of objects")


def _time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unreadable(f"{what} is not a date-time")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Unreadable(f"{what} is not a date-time") from None


def _primary_value(items: list[dict[str, Any]], what: str) -> str:
    """The `value` of the primary item, else of the first one."""
    if not items:
        return ""
    chosen = next((item for item in items if _opt_bool(item.get("primary"), what)), items[0])
    return _str(chosen.get("value"), what)


def _manager(value: Any) -> str:
    # Zoom: an email string; a conformant server: {"value": <id>, "displayName": ...}.
    if isinstance(value, dict):
        return _str(value.get("value") or value.get("displayName"), "manager")
    return _str(value, "manager")


def _profile(item: dict[str, Any], enterprise: dict[str, Any]) -> Profile:
    block = _object(item.get(ZOOM_PROFILE_SCHEMA), "the zoom:1.0:User block")
    licenses: dict[str, bool | str] = {}
    for name in LICENSE_ATTRIBUTES:
        value = block.get(name)
        if value is None:
            continue
        if name in _STRING_LICENSES:
            licenses[name] = _str(value, name)
        else:
            flag = _opt_bool(value, name)
            if flag is not None:
                licenses[name] = flag
    phones = [
        {"type": _str(phone.get("type"), "phone type"), "value": _str(phone.get("value"), "phone number")}
        for phone in _objects(item.get("phoneNumbers"), "phoneNumbers")
    ]
    return Profile(
        title=_str(item.get("title"), "title"),
        locale=_str(item.get("locale"), "locale"),
        organization=_str(enterprise.get("organization"), "organization"),
        division=_str(enterprise.get("division"), "division"),
        cost_center=_str(enterprise.get("costCenter"), "costCenter"),
        manager=_manager(enterprise.get("manager")),
        phone_numbers=phones,
        licenses=licenses,
        pronouns=_str(block.get("pronouns"), "pronouns"),
        personal_link_name=_str(block.get("personalLinkName"), "personalLinkName"),
    )


def user_row(item: Any, *, full: bool | None = None) -> UserRow:
    """Read one user (a List users item or a Get user answer); raises `Unreadable`.

    `full`: read the Get-user-only fields (`profile`) or not; default: when the zoom:1.0:User block
    (which List users leaves out) is there.
    """
    if not isinstance(item, dict):
        raise Unreadable("a user is not an object")
    zoom_id = item.get("id")
    if not isinstance(zoom_id, str) or not zoom_id:
        raise Unreadable("a user has no id")
    user_name = _str(item.get("userName"), "userName")
    email = user_name
    if not email:
        email = _primary_value(_objects(item.get("emails"), "emails"), "emails")
    name = _object(item.get("name"), "name")
    enterprise = _object(item.get(ENTERPRISE_USER_SCHEMA), "the enterprise extension")
    login = _object(_object(item.get(ZOOM_LOGIN_SCHEMA), "the ZoomUser extension").get("loginType"), "loginType")
    groups_value = item.get("groups")
    groups = _objects(groups_value, "groups")
    meta = _object(item.get("meta"), "meta")
    active = _opt_bool(item.get("active"), "active")
    return UserRow(
        zoom_id=zoom_id,
        user_name=user_name,
        email=email.lower(),
        given_name=_str(name.get("givenName"), "givenName"),
        family_name=_str(name.get("familyName"), "familyName"),
        display_name=_str(item.get("displayName"), "displayName"),
        # SCIM's default for a user is active; Zoom always sends it.
        active=True if active is None else active,
        user_type=_str(item.get("userType"), "userType"),
        role=_primary_value(_objects(item.get("roles"), "roles"), "roles"),
        department=_str(enterprise.get("department"), "department"),
        employee_number=_str(enterprise.get("employeeNumber"), "employeeNumber"),
        login_work_email=_opt_bool(login.get("workEmail"), "loginType.workEmail"),
        login_sso=_opt_bool(login.get("sso"), "loginType.sso"),
        group_ids=tuple(value for group in groups if (value := _str(group.get("value"), "group value"))),
        groups_listed=isinstance(groups_value, list),
        zoom_created_at=_time(meta.get("created"), "meta.created"),
        zoom_modified_at=_time(meta.get("lastModified"), "meta.lastModified"),
        profile=_profile(item, enterprise) if (ZOOM_PROFILE_SCHEMA in item if full is None else full) else None,
    )


def group_row(item: Any) -> GroupRow:
    """Read one group (a List groups item or a Get group answer); raises `Unreadable`."""
    if not isinstance(item, dict):
        raise Unreadable("a group is not an object")
    zoom_id = item.get("id")
    if not isinstance(zoom_id, str) or not zoom_id:
        raise Unreadable("a group has no id")
    extension = _object(item.get(ZOOM_GROUP_SCHEMA), "the zoom:2.0:Group block")
    members = item.get("members")
    return GroupRow(
        zoom_id=zoom_id,
        display_name=_str(item.get("displayName"), "displayName"),
        email_alias=_str(extension.get("emailAlias"), "emailAlias"),
        zoom_modified_at=_time(_object(item.get("meta"), "meta").get("lastModified"), "meta.lastModified"),
        member_ids=None
        if members is None
        else tuple(value for member in _objects(members, "members") if (value := _str(member.get("value"), "member"))),
    )


@dataclass(frozen=True, slots=True)
class Item[R]:
    """One item of a list page: the row, the payload's hash, the payload itself and its canonical
    JSON text (what the mirror stores, so a page's payloads are serialized once)."""

    row: R
    hash: str
    raw: dict[str, Any]
    text: str


@dataclass(frozen=True, slots=True)
class Page[R]:
    """A list page: its items, and what it says about the whole list."""

    total_results: int | None
    items: list[Item[R]]


def _page_resources(data: Any) -> tuple[int | None, list[Any]]:
    if not isinstance(data, dict):
        raise Unreadable("a list page is not an object")
    total = data.get("totalResults")
    if total is not None and (not isinstance(total, int) or isinstance(total, bool) or total < 0):
        raise Unreadable("totalResults is not a count")
    resources = data.get("Resources")
    if resources is None:
        return total, []
    if not isinstance(resources, list):
        raise Unreadable("Resources is not a list")
    return total, resources


def users_page(data: Any) -> Page[UserRow]:
    """Read a List users page: every item as a `UserRow` with its payload hash."""
    total, resources = _page_resources(data)
    return Page(total, [_item(user_row(item), item) for item in resources])


def groups_page(data: Any) -> Page[GroupRow]:
    """Read a List groups page: every item as a `GroupRow` with its payload hash."""
    total, resources = _page_resources(data)
    return Page(total, [_item(group_row(item), item) for item in resources])


def _item[R](row: R, item: dict[str, Any]) -> Item[R]:
    text = canonical_json(item)
    return Item(row, text_hash(text), item, text)


def user_row_from_model(user: ZoomUser, *, full: bool | None = None) -> UserRow:
    """The same row from a scim2-models `ZoomUser` (Get user, or a write's answer).

    This is the reference the fast parser is tested against; `groups_listed` is True because a
    model always holds its groups as a list.
    """
    if not user.id:
        raise Unreadable("a user has no id")
    name = user.name
    enterprise = user[ZoomEnterpriseUser]
    login = user[ZoomLoginExtension]
    login_type = login.login_type if login is not None else None
    roles = user.roles or []
    primary_role = next((role for role in roles if role.primary), roles[0] if roles else None)
    extension = user[ZoomProfileExtension]
    profile = None
    if extension is not None if full is None else full:
        licenses: dict[str, bool | str] = {}
        for attribute in LICENSE_ATTRIBUTES:
            value = getattr(extension, _LICENSE_FIELDS[attribute]) if extension is not None else None
            if value is not None:
                licenses[attribute] = value
        profile = Profile(
            title=user.title or "",
            locale=user.locale or "",
            organization=(enterprise.organization if enterprise else None) or "",
            division=(enterprise.division if enterprise else None) or "",
            cost_center=(enterprise.cost_center if enterprise else None) or "",
            manager=(enterprise.manager if enterprise else None) or "",
            phone_numbers=[
                {"type": phone.type or "", "value": phone.value or ""} for phone in user.phone_numbers or []
            ],
            licenses=licenses,
            pronouns=(extension.pronouns if extension else None) or "",
            personal_link_name=(extension.personal_link_name if extension else None) or "",
        )
    meta = user.meta
    return UserRow(
        zoom_id=user.id,
        user_name=user.user_name or "",
        email=user.email.lower(),
        given_name=(name.given_name if name else None) or "",
        family_name=(name.family_name if name else None) or "",
        display_name=user.display_name or "",
        active=True if user.active is None else user.active,
        user_type=user.user_type or "",
        role=(primary_role.value if primary_role else None) or "",
        department=(enterprise.department if enterprise else None) or "",
        employee_number=(enterprise.employee_number if enterprise else None) or "",
        login_work_email=login_type.work_email if login_type else None,
        login_sso=login_type.sso if login_type else None,
        group_ids=tuple(group.value for group in user.groups or [] if group.value),
        groups_listed=True,
        zoom_created_at=meta.created if meta else None,
        zoom_modified_at=meta.last_modified if meta else None,
        profile=profile,
    )


def group_row_from_model(group: ZoomGroup) -> GroupRow:
    """The same row from a scim2-models `ZoomGroup` (Get group, or a write's answer)."""
    if not group.id:
        raise Unreadable("a group has no id")
    return GroupRow(
        zoom_id=group.id,
        display_name=group.display_name or "",
        email_alias=group.email_alias or "",
        zoom_modified_at=group.meta.last_modified if group.meta else None,
        member_ids=None if group.members is None else tuple(member.value for member in group.members if member.value),
    )


# ZoomProfileExtension's field for each license attribute.
_LICENSE_FIELDS = {
    "zoomUnited": "zoom_united",
    "zoomOneBizPlus": "zoom_one_biz_plus",
    "zoomOneEdu": "zoom_one_edu",
    "zoomOneEntPremier": "zoom_one_ent_premier",
    "zoomIQ": "zoom_iq",
    "zoomCustomerManagedKey": "zoom_customer_managed_key",
    "zoomWhiteboard": "zoom_whiteboard",
    "zoomWhiteboardPlus": "zoom_whiteboard_plus",
    "zoomTranslatedCaptions": "zoom_translated_captions",
    "zoomHuddles": "zoom_huddles",
}
