"""Zoom's SCIM2 payloads as scim2-models (pydantic) models, with Zoom's extensions declared.

Zoom departs from RFC 7643 in a few places, and these models absorb each one so callers see
plain, typed values:

- enterprise `manager` is an email *string* (RFC: a complex `{value, $ref, displayName}`);
  a complex value from a conformant server is read as its `value`.
- `roles`, `groups`, `emails` and `phoneNumbers` come as a single object or as an array.
- error `status` is a number (RFC: a string); both are read.
- attributes nobody declared are ignored (kept on `unknown_attributes`), never fatal: Zoom adds
  license flags and custom attributes per account.
- email addresses are kept as Zoom stores them, not re-validated: a list page must not fail
  because one address looks odd to a validator.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Union

import pydantic
from pydantic import Field, model_validator
from scim2_models import (
    URN,
    ComplexAttribute,
    Context,
    Error,
    Extension,
    Group,
    ListResponse,
    Name,
    ScimPolicy,
    User,
)
from scim2_models.annotations import Mutability

ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ZOOM_LOGIN_SCHEMA = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ZOOM_PROFILE_SCHEMA = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User"
ZOOM_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:extension:zoom:2.0:Group"

# How we read every payload from Zoom (or another SCIM server): unknown attributes are dropped.
READ_POLICY = ScimPolicy(unknown=ScimPolicy.Unknown.ignore)


def _as_list(data: Any, names: Iterable[str]) -> Any:
    """Wrap single-object values of the multi-valued attributes `names` (any case) in a list."""
    if not isinstance(data, dict):
        return data
    wanted = {name.lower() for name in names}
    return {key: [value] if isinstance(value, dict) and key.lower() in wanted else value for key, value in data.items()}


class LoginType(ComplexAttribute):
    """How the user signs in to Zoom; Zoom requires at least one to be true."""

    work_email: bool | None = None
    sso: bool | None = None


class ZoomLoginExtension(Extension):
    """`urn:us:zoom:scim:schemas:extension:1.0:ZoomUser`: the sign-in methods."""

    __schema__ = URN(ZOOM_LOGIN_SCHEMA)

    login_type: LoginType | None = None


class ZoomEnterpriseUser(Extension):
    """The RFC 7643 enterprise extension as Zoom serves it: `manager` is an email string."""

    __schema__ = URN(ENTERPRISE_USER_SCHEMA)

    employee_number: str | None = None
    cost_center: str | None = None
    organization: str | None = None
    division: str | None = None
    department: str | None = None
    manager: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _manager_as_string(cls, data: Any) -> Any:
        # A conformant server sends {"value": <user id>, "displayName": ...}; keep what identifies them.
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key, value in data.items():
            if key.lower() == "manager" and isinstance(value, dict):
                out[key] = value.get("value") or value.get("displayName")
        return out


class ZoomProfileExtension(Extension):
    """`urn:ietf:params:scim:schemas:extension:zoom:1.0:User`: licenses, features and Zoom-only fields.

    Only Get/Put/Patch answers carry it (List users leaves it out). Plan-specific license values
    stay strings; flags the account does not have are simply absent.
    """

    __schema__ = URN(ZOOM_PROFILE_SCHEMA)

    personal_link_name: str | None = None
    pronouns: str | None = None
    zoom_united: str | None = None
    zoom_one_biz_plus: str | None = None
    zoom_one_edu: str | None = None
    zoom_one_ent_premier: str | None = None
    zoom_iq: bool | None = Field(None, serialization_alias="zoomIQ", validation_alias="zoomIQ")
    zoom_customer_managed_key: bool | None = None
    zoom_whiteboard: bool | None = None
    zoom_whiteboard_plus: bool | None = None
    zoom_translated_captions: bool | None = None
    zoom_huddles: bool | None = None
    # Zoom Phone provisioning (accepted on create; namespace unconfirmed by Zoom's docs).
    zoom_phone_ext_number: int | None = None
    zoom_phone_site: str | None = None
    zoom_phone_calling_plan: int | None = None
    zoom_phone_number: str | None = None


class ZoomGroupExtension(Extension):
    """`urn:ietf:params:scim:schemas:extension:zoom:2.0:Group`: the group's email alias."""

    __schema__ = URN(ZOOM_GROUP_SCHEMA)

    email_alias: str | None = None


class ZoomEmail(ComplexAttribute):
    """An email of a user, read as Zoom stores it (`type` is usually `work`)."""

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


class ZoomPhoneNumber(ComplexAttribute):
    """A phone number of a user; Zoom uses types `work`, `home`, `office`, `mobile`."""

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


class ZoomUser(User[Union[ZoomEnterpriseUser, ZoomLoginExtension, ZoomProfileExtension]]):  # noqa: UP007
    """A Zoom user (SCIM User with Zoom's three extensions).

    Read extensions with `user[ZoomEnterpriseUser]`; they are None when Zoom left them out.
    """

    emails: list[ZoomEmail] | None = None  # type: ignore[assignment]
    Emails: ClassVar[type[ComplexAttribute]] = ZoomEmail
    phone_numbers: list[ZoomPhoneNumber] | None = None  # type: ignore[assignment]
    PhoneNumbers: ClassVar[type[ComplexAttribute]] = ZoomPhoneNumber

    @model_validator(mode="before")
    @classmethod
    def _single_objects_as_lists(cls, data: Any) -> Any:
        # Zoom's Get example renders roles/groups as one object, its Put/Patch examples as arrays.
        return _as_list(data, ("roles", "groups", "emails", "phoneNumbers"))

    @property
    def email(self) -> str:
        """The sign-in email: Zoom's `userName`, else the primary (or first) email."""
        if self.user_name:
            return self.user_name
        emails = self.emails or []
        primary = next((e for e in emails if e.primary), emails[0] if emails else None)
        return (primary.value or "") if primary else ""


class ZoomGroup(Group[ZoomGroupExtension]):  # type: ignore[type-arg]
    """A Zoom user group (SCIM Group with the `emailAlias` extension)."""

    @model_validator(mode="before")
    @classmethod
    def _single_member_as_list(cls, data: Any) -> Any:
        return _as_list(data, ("members",))

    @property
    def email_alias(self) -> str | None:
        """The group's email alias, if Zoom has one."""
        extension = self[ZoomGroupExtension]
        return extension.email_alias if extension is not None else None


class ScimErrorBody(Error):
    """A SCIM Error body; Zoom sends `status` as a number, RFC 7644 as a string: both are read."""

    status: Annotated[int | None, Mutability.read_only] = None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _status_as_int(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key, value in data.items():
            if key.lower() == "status" and isinstance(value, str):
                out[key] = int(value) if value.strip().isdigit() else None
        return out


class ZoomMe(pydantic.BaseModel):
    """`GET /v2/users/me`: who authorized the app, on which account, with which role."""

    model_config = pydantic.ConfigDict(extra="ignore")

    id: str
    email: str
    account_id: str
    role_name: str = ""
    type: int | None = None
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    status: str = ""
    # The user's profile company; in practice the company that owns the account (names it at first sign-in).
    company: str = ""


def user_parse(data: Any) -> ZoomUser:
    """Read one user from a Zoom answer (unknown attributes ignored)."""
    return ZoomUser.model_validate(data, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=READ_POLICY)


def group_parse(data: Any) -> ZoomGroup:
    """Read one group from a Zoom answer (unknown attributes ignored)."""
    return ZoomGroup.model_validate(data, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=READ_POLICY)


def user_list_parse(data: Any) -> ListResponse[ZoomUser]:
    """Read a List users page; a page without `Resources` is an empty page.

    Read without the query-response context checks (returnability of every attribute): they
    tripled the cost per item (bench/scim_models_parse.py), and a sync reads thousands of items.
    """
    return ListResponse[ZoomUser].model_validate(data, scim_ctx=Context.DEFAULT, scim_policy=READ_POLICY)


def group_list_parse(data: Any) -> ListResponse[ZoomGroup]:
    """Read a List groups page; a page without `Resources` is an empty page (see `user_list_parse`)."""
    return ListResponse[ZoomGroup].model_validate(data, scim_ctx=Context.DEFAULT, scim_policy=READ_POLICY)


def error_parse(data: Any) -> ScimErrorBody:
    """Read a SCIM Error body (numeric or string `status`)."""
    return ScimErrorBody.model_validate(data, scim_policy=READ_POLICY)


def user_build(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    display_name: str | None = None,
    active: bool | None = None,
    user_type: str | None = None,
    title: str | None = None,
    department: str | None = None,
    manager: str | None = None,
    login_work_email: bool | None = None,
    login_sso: bool | None = None,
) -> ZoomUser:
    """A user payload for Create a user (or, with only some fields, for Update a user).

    Only the arguments given end up in the payload: Zoom's PUT is a partial update, so an
    attribute left out is left unchanged, and an empty string clears it.
    """
    user = ZoomUser(user_name=email, emails=[ZoomEmail(value=email, type="work", primary=True)])
    if first_name or last_name:
        user.name = Name(given_name=first_name or None, family_name=last_name or None)
    for field, value in (
        ("display_name", display_name),
        ("active", active),
        ("user_type", user_type),
        ("title", title),
    ):
        if value is not None:
            setattr(user, field, value)
    if department is not None or manager is not None:
        user[ZoomEnterpriseUser] = ZoomEnterpriseUser(department=department, manager=manager)
    if login_work_email is not None or login_sso is not None:
        user[ZoomLoginExtension] = ZoomLoginExtension(login_type=LoginType(work_email=login_work_email, sso=login_sso))
    return user


def user_payload(user: ZoomUser, *, context: Context = Context.RESOURCE_CREATION_REQUEST) -> dict[str, Any]:
    """The JSON body for a create (or, with `RESOURCE_REPLACEMENT_REQUEST`, a PUT) of `user`."""
    return user.model_dump(scim_ctx=context)
