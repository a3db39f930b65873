"""How the sandbox renders SCIM resources, the way Zoom does.

Two user projections: the *full* profile (Get, Create, PUT, PATCH: all four schema URNs, the
`zoom:1.0:User` license block, manager/organization/costCenter) and the *reduced* one of List
users (no `zoom:1.0:User` block; the enterprise extension carries only `department` and
`employeeNumber`), as reported on Zoom's developer forum. `roles` and `groups` are a single
object or an array depending on the account's `roles_groups_shape`, because Zoom's own examples
show both. The caller reads the users' groups (`scim_services.user_groups_of`: one query for a
whole page) and passes them in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest

from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ZOOM_USER = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ZOOM_LICENSE_USER = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ZOOM_GROUP = "urn:ietf:params:scim:schemas:extension:zoom:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

FULL_USER_SCHEMAS = [CORE_USER, ENTERPRISE_USER, ZOOM_USER, ZOOM_LICENSE_USER]
LIST_USER_SCHEMAS = [CORE_USER, ENTERPRISE_USER, ZOOM_USER]
GROUP_SCHEMAS = [CORE_GROUP, ZOOM_GROUP]


def timestamp(value: datetime) -> str:
    """Zoom's timestamps: UTC, second precision, `Z` suffix."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ROOT_KEY = "zoomadmin.sandbox.scim_root"


def resource_location(*, request: HttpRequest, kind: str, resource_id: str) -> str:
    """The absolute URL of a resource on the host the client called (ids may hold `&`: encode)."""
    # The root is worked out once per request: a list page names a hundred resources.
    root = request.META.get(_ROOT_KEY)
    if root is None:
        root = request.META[_ROOT_KEY] = request.build_absolute_uri("/scim2/")
    return f"{root}{kind}/{quote(resource_id, safe='')}"


def _meta(*, request: HttpRequest, kind: str, resource_type: str, obj: SandboxUser | SandboxGroup) -> dict[str, Any]:
    return {
        "resourceType": resource_type,
        "location": resource_location(request=request, kind=kind, resource_id=obj.zoom_id),
        "version": f'W/"{obj.version}"',
        "created": timestamp(obj.created),
        "lastModified": timestamp(obj.last_modified),
    }


def _shaped(items: list[dict[str, Any]], *, account: SandboxAccount) -> dict[str, Any] | list[dict[str, Any]] | None:
    # "object": Zoom's Get example shows one object (the first/primary); nothing when empty.
    if account.roles_groups_shape == SandboxAccount.ShapeChoice.ARRAY:
        return items
    return items[0] if items else None


# The model columns List users' reduced projection reads (`user_render(full=False)`): a list page
# loads only these (the license block and phone numbers are JSON decoded for nothing otherwise).
LIST_USER_COLUMNS = (
    "id",
    "zoom_id",
    "created",
    "last_modified",
    "version",
    "user_name",
    "given_name",
    "family_name",
    "display_name",
    "status",
    "user_type",
    "role",
    "department",
    "employee_number",
    "login_work_email",
    "login_sso",
)


def user_render(
    *,
    user: SandboxUser,
    request: HttpRequest,
    account: SandboxAccount,
    full: bool,
    groups: list[tuple[str, str]],
) -> dict[str, Any]:
    """A user as Zoom answers it: the full profile, or List users' reduced projection.

    `groups`: the user's groups as (Zoom id, name) in group order (`scim_services.user_groups_of`).
    """
    body: dict[str, Any] = {
        "schemas": list(FULL_USER_SCHEMAS if full else LIST_USER_SCHEMAS),
        "id": user.zoom_id,
        "meta": _meta(request=request, kind="Users", resource_type="User", obj=user),
        "userName": user.user_name,
        "name": {"givenName": user.given_name, "familyName": user.family_name},
        "displayName": user.display_name,
        "emails": [{"type": "work", "value": user.user_name, "primary": True}],
        "active": user.active,
        "userType": user.user_type,
    }
    if full:
        if user.title:
            body["title"] = user.title
        if user.locale:
            body["locale"] = user.locale
        if user.phone_numbers:
            body["phoneNumbers"] = user.phone_numbers
    roles = _shaped([{"value": user.role, "display": user.role, "primary": True}], account=account)
    shaped_groups = _shaped([{"value": value, "display": display} for value, display in groups], account=account)
    if roles is not None:
        body["roles"] = roles
    if shaped_groups is not None:
        body["groups"] = shaped_groups
    enterprise: dict[str, Any] = {"department": user.department, "employeeNumber": user.employee_number}
    if full:
        enterprise.update(organization=user.organization, costCenter=user.cost_center, manager=user.manager)
    body[ENTERPRISE_USER] = enterprise
    body[ZOOM_USER] = {"loginType": {"workEmail": user.login_work_email, "sso": user.login_sso}}
    if full:
        body[ZOOM_LICENSE_USER] = dict(user.zoom_extension)
    return body


def group_render(
    *, group: SandboxGroup, request: HttpRequest, members: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """A group as Zoom answers it; `members` (Zoom id, userName) only when given (Get a group, if the
    account says so)."""
    body: dict[str, Any] = {
        "schemas": list(GROUP_SCHEMAS),
        "id": group.zoom_id,
        "meta": _meta(request=request, kind="Groups", resource_type="Group", obj=group),
        "displayName": group.display_name,
        ZOOM_GROUP: {"emailAlias": group.email_alias},
    }
    if members is not None:
        body["members"] = [{"value": zoom_id, "display": user_name} for zoom_id, user_name in members]
    return body


def list_render(*, total: int, start_index: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A SCIM ListResponse (`Resources` with a capital R, as Zoom and RFC 7644 spell it)."""
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
