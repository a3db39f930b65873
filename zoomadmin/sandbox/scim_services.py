"""What the sandbox's SCIM2 operations do to its users and groups, with Zoom's rules and refusals.

Handlers in `scim_views` parse nothing but the URL; every rule lives here and raises `ScimError`
with Zoom's status and wording (or a clear sentence where the reference has none).

Deleting a user follows the account's `delete_user_mode`:

- ``delete`` removes the user row (memberships and tokens go with it);
- ``disassociate`` does what Zoom's REST "disassociate" does: the Zoom user keeps existing but
  leaves the account. The sandbox moves the user into a new free account of their own (as its
  Owner, with a default group), after dropping their group memberships. The old account then
  answers 404 for the id, and tokens the user had on the old account stop working.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from zoomadmin.sandbox.api import ScimError
from zoomadmin.sandbox.models import Plan, Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus
from zoomadmin.sandbox.scim_query import ScimFilter, unquote
from zoomadmin.sandbox.scim_render import ENTERPRISE_USER, ZOOM_GROUP, ZOOM_LICENSE_USER, ZOOM_USER

# Zoom's userType values; legacy Pro/Corp are still sent by Okta. Anything else (even "None") is refused.
USER_TYPES = {name.lower(): name for name in ("Basic", "Licensed", "On-Prem", "Pro", "Corp")}
INVALID_ACTIVE = "The request json did not contains valid active field."
INVALID_GROUP_NAME = 'The "DisplayName" of the request is invalid.'
_MEMBER_FILTER_RE = re.compile(r'^members\[\s*value\s+eq\s+"(?P<id>(?:[^"\\]|\\.)*)"\s*\]$', re.IGNORECASE)
_ENTERPRISE_FIELDS = {
    "department": ("department", 200),
    "organization": ("organization", 200),
    "costCenter": ("cost_center", 200),
    "employeeNumber": ("employee_number", 100),
    "manager": ("manager", 254),
}


# --- lookups ---------------------------------------------------------------------------------------


def user_groups_of(users: list[SandboxUser]) -> dict[int, list[tuple[str, str]]]:
    """Each user's groups as (Zoom id, name), oldest group first (what every user rendering shows): one query."""
    through = SandboxGroup.members.through
    rows = (
        through.objects.filter(sandboxuser_id__in=[user.pk for user in users])
        .order_by("sandboxgroup_id")
        .values_list("sandboxuser_id", "sandboxgroup__zoom_id", "sandboxgroup__display_name")
    )
    groups: dict[int, list[tuple[str, str]]] = {}
    for user_id, zoom_id, display_name in rows:
        groups.setdefault(user_id, []).append((zoom_id, display_name))
    return groups


def user_lookup(*, account: SandboxAccount, user_id: str) -> SandboxUser:
    """The account's user with Zoom id `user_id`; 404 for unknown ids and other accounts' users."""
    user = SandboxUser.objects.filter(account=account, zoom_id=user_id).first()
    if user is None:
        raise ScimError(404, f"User does not exist: {user_id}")
    return user


def group_lookup(*, account: SandboxAccount, group_id: str) -> SandboxGroup:
    """The account's group with Zoom id `group_id`; 404 "Group does not exist." otherwise."""
    group = SandboxGroup.objects.filter(account=account, zoom_id=group_id).first()
    if group is None:
        raise ScimError(404, "Group does not exist.")
    return group


def users_query(*, account: SandboxAccount, scim_filter: ScimFilter | None) -> QuerySet[SandboxUser]:
    """The account's users matching `scim_filter`, oldest first (the order paging relies on).

    `userName eq` on a pending user answers 400 when the account says so (forum 7646).
    """
    users = SandboxUser.objects.filter(account=account)
    if scim_filter is not None:
        if scim_filter.attribute == "userName":
            if account.filter_case_insensitive:
                # Lower() matches the case-insensitive unique index on user_name.
                users = users.alias(user_name_lower=Lower("user_name")).filter(
                    user_name_lower=scim_filter.value.lower()
                )
            else:
                users = users.filter(user_name=scim_filter.value)
            if account.pending_username_filter_400 and users.filter(status=UserStatus.PENDING).exists():
                raise ScimError(400, f"User {scim_filter.value} not exist or not belong to this account.")
        else:
            # externalId is the Zoom user id; ids are case-sensitive, so the match is exact.
            users = users.filter(zoom_id=scim_filter.value)
    return users.order_by("id")


def groups_query(*, account: SandboxAccount, scim_filter: ScimFilter | None) -> QuerySet[SandboxGroup]:
    """The account's groups matching `scim_filter` (`displayName eq`), oldest first."""
    groups = SandboxGroup.objects.filter(account=account)
    if scim_filter is not None:
        if account.filter_case_insensitive:
            groups = groups.filter(display_name__iexact=scim_filter.value)
        else:
            groups = groups.filter(display_name=scim_filter.value)
    return groups.order_by("id")


# --- value checks ----------------------------------------------------------------------------------


def _text(value: Any, *, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ScimError(400, f'The "{field}" of the request is invalid: it must be a string.', "invalidValue")
    if len(value) > max_length:
        raise ScimError(
            400, f'The "{field}" of the request is invalid: at most {max_length} characters.', "invalidValue"
        )
    return value


def _email(value: Any, *, field: str) -> str:
    text = _text(value, field=field, max_length=254).strip()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ScimError(
            400, f'The "{field}" of the request is invalid: it must be an email address.', "invalidValue"
        ) from exc
    return text


def _boolean(value: Any, *, error: ScimError) -> bool:
    # Okta and friends send "False"/"true" strings; accept them as Zoom appears to.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise error


def _object(value: Any, *, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScimError(400, f'The "{field}" of the request is invalid: it must be an object.', "invalidValue")
    return value


def _require_schemas(data: dict[str, Any]) -> None:
    schemas = data.get("schemas")
    if not isinstance(schemas, list) or not schemas or not all(isinstance(s, str) for s in schemas):
        raise ScimError(400, 'The "schemas" of the request is invalid.', "invalidValue")


def _user_type(value: Any) -> str:
    canonical = USER_TYPES.get(value.strip().lower()) if isinstance(value, str) else None
    if canonical is None:
        raise ScimError(
            400,
            f"AttributeValidationFailed: userType {value!r} is invalid; use one of {', '.join(USER_TYPES.values())}.",
            "invalidValue",
        )
    return canonical


def _phone_numbers(value: Any) -> list[dict[str, Any]]:
    invalid = ScimError(400, 'The "phoneNumbers" of the request is invalid.', "invalidValue")
    if not isinstance(value, list):
        raise invalid
    numbers: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str) or not item["value"].strip():
            raise invalid
        number: dict[str, Any] = {"type": str(item.get("type") or "work"), "value": item["value"].strip()}
        if isinstance(item.get("primary"), bool):
            number["primary"] = item["primary"]
        numbers.append(number)
    return numbers


def _user_name_check_free(*, user_name: str, exclude_pk: int | None) -> None:
    taken = SandboxUser.objects.alias(user_name_lower=Lower("user_name")).filter(user_name_lower=user_name.lower())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ScimError(409, f"User already exists: {user_name}", "uniqueness")


def _employee_number_check_free(*, user: SandboxUser, previous: str | None) -> None:
    """Zoom keeps `employeeNumber` unique within an account (reference §4.1): 409 if another user holds it.

    Only a new or changed, non-empty number is checked, so a PUT that leaves it alone never fails here.
    """
    number = user.employee_number
    if not number or number == previous:
        return
    taken = SandboxUser.objects.filter(account_id=user.account_id, employee_number=number)
    if user.pk is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise ScimError(409, f"employeeNumber {number} is already in use.", "uniqueness")


# --- users -----------------------------------------------------------------------------------------


def _user_apply(*, user: SandboxUser, data: dict[str, Any], identity: bool) -> None:
    """Copy the attributes present in `data` onto `user` (a partial merge, as Zoom's PUT does).

    `identity` False leaves userName, displayName and loginType alone (the PUT quirk).
    """
    if identity and "userName" in data:
        user_name = _email(data["userName"], field="userName")
        if user_name.lower() != user.user_name.lower():
            _user_name_check_free(user_name=user_name, exclude_pk=user.pk)
        user.user_name = user_name
    if "name" in data:
        name = _object(data["name"], field="name")
        if "givenName" in name:
            user.given_name = _text(name["givenName"], field="name.givenName", max_length=100).strip()
        if "familyName" in name:
            user.family_name = _text(name["familyName"], field="name.familyName", max_length=100).strip()
    if identity and "displayName" in data:
        user.display_name = _text(data["displayName"], field="displayName", max_length=200).strip()
    if "userType" in data:
        user.user_type = _user_type(data["userType"])
    if "title" in data:
        user.title = _text(data["title"], field="title", max_length=200).strip()
    if "locale" in data:
        user.locale = _text(data["locale"], field="locale", max_length=32).strip()
    if "phoneNumbers" in data:
        user.phone_numbers = _phone_numbers(data["phoneNumbers"])
    if ENTERPRISE_USER in data:
        enterprise = _object(data[ENTERPRISE_USER], field=ENTERPRISE_USER)
        for key, (attr, max_length) in _ENTERPRISE_FIELDS.items():
            if key not in enterprise:
                continue
            value = enterprise[key]
            if key == "manager" and isinstance(value, dict):
                # RFC-style clients send {"value": ...}; Zoom keeps the manager as an email string.
                value = value.get("value", "")
            setattr(user, attr, _text(value, field=f"{ENTERPRISE_USER}:{key}", max_length=max_length).strip())
    if identity and ZOOM_USER in data:
        login = _object(_object(data[ZOOM_USER], field=ZOOM_USER).get("loginType", {}), field="loginType")
        bad_login = ScimError(400, 'The "loginType" of the request is invalid.', "invalidValue")
        if "workEmail" in login:
            user.login_work_email = _boolean(login["workEmail"], error=bad_login)
        if "sso" in login:
            user.login_sso = _boolean(login["sso"], error=bad_login)
        if not (user.login_work_email or user.login_sso):
            raise ScimError(400, "loginType needs workEmail or sso set to true.", "invalidValue")
    if ZOOM_LICENSE_USER in data:
        extension = dict(user.zoom_extension)
        for key, value in _object(data[ZOOM_LICENSE_USER], field=ZOOM_LICENSE_USER).items():
            if value is None:
                extension.pop(key, None)
            else:
                extension[key] = value
        user.zoom_extension = extension


def _user_touch(user: SandboxUser) -> None:
    user.version += 1
    user.last_modified = timezone.now()


@transaction.atomic
def user_create(*, account: SandboxAccount, data: dict[str, Any]) -> SandboxUser:
    """Create an active Member from a SCIM User body.

    409 if the email is a Zoom user anywhere, or the employeeNumber is held by another user of the account.
    """
    _require_schemas(data)
    if "userName" not in data:
        raise ScimError(400, 'The "userName" of the request is invalid: it is required.', "invalidValue")
    user = SandboxUser(account=account, role=Role.MEMBER, status=UserStatus.ACTIVE, user_name="")
    _user_apply(user=user, data=data, identity=True)
    if not ((user.given_name and user.family_name) or user.display_name):
        raise ScimError(
            400, "The request must include name.givenName and name.familyName, or displayName.", "invalidValue"
        )
    if not user.display_name:
        user.display_name = f"{user.given_name} {user.family_name}".strip()
    _employee_number_check_free(user=user, previous=None)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # A concurrent create of the same email won the race past the check above.
        raise ScimError(409, f"User already exists: {user.user_name}", "uniqueness") from exc
    return user


def user_set_active(*, account: SandboxAccount, user: SandboxUser, active: bool) -> None:
    """Activate or deactivate `user` (unsaved); Owners/Admins cannot be deactivated, pending users not changed."""
    if user.status == UserStatus.PENDING:
        verb = "activated" if active else "deactivated"
        raise ScimError(
            400, f"User {user.user_name} has not accepted the invitation yet; a pending user cannot be {verb}."
        )
    if not active and user.role in (Role.OWNER, Role.ADMIN):
        raise ScimError(
            account.deactivate_privileged_status,
            f"User {user.user_name} has the {user.role} role and cannot be deactivated through SCIM; "
            "change the role to Member first.",
        )
    user.status = UserStatus.ACTIVE if active else UserStatus.INACTIVE


@transaction.atomic
def user_update(*, account: SandboxAccount, user: SandboxUser, data: dict[str, Any]) -> None:
    """Zoom's PUT: merge the attributes present in the body; `active` (de)activates.

    A new employeeNumber held by another user of the account is refused with 409.
    """
    _require_schemas(data)
    previous_employee_number = user.employee_number
    _user_apply(user=user, data=data, identity=not account.put_ignores_identity_fields)
    _employee_number_check_free(user=user, previous=previous_employee_number)
    if "active" in data:
        active = _boolean(data["active"], error=ScimError(400, 'The "active" of the request is invalid.'))
        if active != user.active:
            user_set_active(account=account, user=user, active=active)
    _user_touch(user)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ScimError(409, f"User already exists: {user.user_name}", "uniqueness") from exc


def _active_from_patch(data: dict[str, Any]) -> bool:
    invalid = ScimError(400, INVALID_ACTIVE)
    operations = data.get("Operations")  # exactly this case: Zoom refuses `operations`
    if not isinstance(operations, list):
        raise invalid
    active: bool | None = None
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("replace", "add"):
            continue
        path = operation.get("path")
        value = operation.get("value")
        if path is None and isinstance(value, dict):
            for key, item in value.items():
                if key.lower() == "active":
                    active = _boolean(item, error=invalid)
        elif isinstance(path, str) and path.strip().lower().rsplit(":", 1)[-1] == "active":
            active = _boolean(value, error=invalid)
    if active is None:
        raise invalid
    return active


@transaction.atomic
def user_patch(*, account: SandboxAccount, user: SandboxUser, data: dict[str, Any]) -> None:
    """Zoom's PATCH ("Deactivate a user"): only `active` is honoured, in any of the common op shapes."""
    active = _active_from_patch(data)
    if active != user.active:
        user_set_active(account=account, user=user, active=active)
        _user_touch(user)
        user.save(update_fields=["status", "version", "last_modified"])


@transaction.atomic
def user_delete(*, account: SandboxAccount, user: SandboxUser) -> None:
    """Delete or disassociate the user (per `account.delete_user_mode`); the Owner cannot be removed."""
    if user.role == Role.OWNER:
        raise ScimError(400, f"User {user.user_name} is the account owner and cannot be deleted.")
    if account.delete_user_mode != "disassociate":
        user.delete()
        return
    user.sandbox_groups.clear()
    own_account = SandboxAccount.objects.create(
        name=f"{user.display_name or user.user_name} (disassociated)",
        vanity_domain=user.user_name.rsplit("@", 1)[-1],
        plan=Plan.FREE,
    )
    SandboxGroup.objects.create(account=own_account, display_name="Default group", is_default=True)
    user.account = own_account
    user.role = Role.OWNER
    _user_touch(user)
    user.save(update_fields=["account", "role", "version", "last_modified"])


# --- groups ----------------------------------------------------------------------------------------


def _group_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200:
        raise ScimError(400, INVALID_GROUP_NAME)
    return value.strip()


def _group_name_check_free(*, account: SandboxAccount, name: str, exclude_pk: int | None) -> None:
    if not account.duplicate_group_name_409:
        return
    taken = SandboxGroup.objects.filter(account=account, display_name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ScimError(409, f"Group name {name} is already in use.", "uniqueness")


def _email_alias(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return _email(value, field="emailAlias")


def _members_resolve(*, account: SandboxAccount, value: Any) -> list[SandboxUser]:
    """The account's users named in a members value `[{"value": id}, ...]`; 400 naming unknown ids."""
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("value"), str) for item in value
    ):
        raise ScimError(400, 'The "members" value must be a list of {"value": "<user id>"}.', "invalidValue")
    ids = list(dict.fromkeys(item["value"] for item in value))
    return _member_ids_resolve(account=account, ids=ids)


def _member_ids_resolve(*, account: SandboxAccount, ids: list[str]) -> list[SandboxUser]:
    found = {user.zoom_id: user for user in SandboxUser.objects.filter(account=account, zoom_id__in=ids)}
    unknown = [user_id for user_id in ids if user_id not in found]
    if unknown:
        raise ScimError(400, f"Users do not exist or do not belong to this account: {', '.join(unknown)}")
    return [found[user_id] for user_id in ids]


@transaction.atomic
def group_create(*, account: SandboxAccount, data: dict[str, Any]) -> SandboxGroup:
    """Create a group from a SCIM Group body (displayName, zoom:2.0:Group emailAlias, optional members)."""
    _require_schemas(data)
    name = _group_name(data.get("displayName"))
    _group_name_check_free(account=account, name=name, exclude_pk=None)
    extension = _object(data.get(ZOOM_GROUP, {}), field=ZOOM_GROUP)
    members = _members_resolve(account=account, value=data["members"]) if "members" in data else []
    group = SandboxGroup.objects.create(
        account=account, display_name=name, email_alias=_email_alias(extension.get("emailAlias"))
    )
    group.members.add(*members)
    return group


def _group_patch_attributes(*, account: SandboxAccount, group: SandboxGroup, op: str, value: Any) -> None:
    """A path-less add/replace: `value` is an object of attributes to set."""
    attributes = _object(value, field="value")
    for key, item in attributes.items():
        lowered = key.lower()
        if lowered == "displayname":
            _group_patch_path(account=account, group=group, op=op, path="displayName", value=item)
        elif lowered in ("emailalias", ZOOM_GROUP.lower()):
            _group_patch_path(account=account, group=group, op=op, path=key, value=item)
        elif lowered == "members":
            _group_patch_path(account=account, group=group, op=op, path="members", value=item)
        else:
            raise ScimError(400, f"Unsupported attribute: {key}.", "invalidPath")


def _group_patch_path(*, account: SandboxAccount, group: SandboxGroup, op: str, path: str, value: Any) -> None:
    lowered = path.strip().lower()
    member_filter = _MEMBER_FILTER_RE.match(path.strip())
    if member_filter is not None:
        if op != "remove":
            raise ScimError(400, f"Unsupported path for {op}: {path}.", "invalidPath")
        user_id = unquote(member_filter["id"])
        group.members.remove(*_member_ids_resolve(account=account, ids=[user_id]))
    elif lowered == "members":
        if op == "remove" and value is None:
            group.members.clear()
            return
        members = _members_resolve(account=account, value=value)
        if op == "add":
            group.members.add(*members)
        elif op == "remove":
            group.members.remove(*members)
        else:
            group.members.set(members)
    elif lowered == "displayname":
        if op == "remove":
            raise ScimError(400, INVALID_GROUP_NAME)
        name = _group_name(value)
        _group_name_check_free(account=account, name=name, exclude_pk=group.pk)
        group.display_name = name
    elif lowered in ("emailalias", f"{ZOOM_GROUP}:emailalias".lower()):
        group.email_alias = "" if op == "remove" else _email_alias(value)
    elif lowered == ZOOM_GROUP.lower():
        if op == "remove":
            group.email_alias = ""
        else:
            extension = _object(value, field=ZOOM_GROUP)
            if "emailAlias" in extension:
                group.email_alias = _email_alias(extension["emailAlias"])
    else:
        raise ScimError(400, f"Unsupported path: {path}.", "invalidPath")


@transaction.atomic
def group_patch(*, account: SandboxAccount, group: SandboxGroup, data: dict[str, Any]) -> None:
    """Apply a PatchOp to a group: rename, emailAlias, add/remove/replace members. All or nothing."""
    _require_schemas(data)
    operations = data.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, 'The request must include "Operations" with at least one operation.', "invalidSyntax")
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation must be an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "remove", "replace"):
            raise ScimError(
                400, f"Unsupported op: {operation.get('op')!r}; use add, remove or replace.", "invalidSyntax"
            )
        path = operation.get("path")
        value = operation.get("value")
        if path is None:
            if op == "remove":
                raise ScimError(400, "A remove operation needs a path.", "noTarget")
            _group_patch_attributes(account=account, group=group, op=op, value=value)
        elif isinstance(path, str):
            _group_patch_path(account=account, group=group, op=op, path=path, value=value)
        else:
            raise ScimError(400, "The operation's path must be a string.", "invalidPath")
    group.version += 1
    group.last_modified = timezone.now()
    group.save(update_fields=["display_name", "email_alias", "version", "last_modified"])


@transaction.atomic
def group_delete(*, group: SandboxGroup) -> None:
    """Delete a group; the account's default group is refused (Zoom's 400)."""
    if group.is_default:
        raise ScimError(400, "Cannot delete account default group.")
    group.delete()
