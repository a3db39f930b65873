"""The directory pages' services: changes to users and groups, and what the pages read besides the lists.

Every change follows one order (DESIGN "How data flows"): **Zoom first**, then the **mirror from
Zoom's answer** (the mirror helpers of `services.py`, shared with the sync and the bulk job
engine), and — in the `audit_change` block that wraps the Zoom call — **one audit event**, success
or failure with Zoom's status and message. When Zoom refuses or its answer is lost (`ZoomError`,
`OutcomeUnknown`), the mirror is left exactly as it was and the error propagates for the page to
show its `.message`: nothing is half-changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db.models import Prefetch, QuerySet

from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditTarget
from zoomadmin.audit.services import AuditChange, audit_change
from zoomadmin.directory import services as mirror
from zoomadmin.directory.models import DirectoryGroup, DirectoryMembership, DirectoryUser, UserRole, UserStatus
from zoomadmin.directory.search import LICENSES, search_words, users_matching
from zoomadmin.imports.engine import USER_FIELDS, user_payload_build, user_values, values_diff
from zoomadmin.spreadsheet import csv_cell
from zoomadmin.zoom import filters
from zoomadmin.zoom.client import PATCH_OP_SCHEMA, ZoomClient
from zoomadmin.zoom.errors import Conflict, Invalid, NotFound, ZoomError
from zoomadmin.zoom.models import user_build

# ---------------------------------------------------------------------------------------------
# One audited change: the client and the audit block, opened together


@contextmanager
def _audited_call(
    *,
    account: ZoomAccount,
    connection: ZoomConnection,
    action: AuditAction,
    target_type: AuditTarget,
    target_zoom_id: str = "",
    target_label: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> Iterator[tuple[ZoomClient, AuditChange]]:
    """One audited change in Zoom as `connection`: yields the client and the `audit_change` record.

    The client is made before the audit block opens, so a connection that cannot be used
    (`NoUsableConnection`) fails without an event; anything the block raises is recorded by
    `audit_change` and reaches the caller unchanged. The event is written before the client closes.
    """
    with (
        zoom_client(account=account, acting_as=connection) as client,
        audit_change(
            account=account,
            actor=connection,
            action=action,
            target_type=target_type,
            target_zoom_id=target_zoom_id,
            target_label=target_label,
            before=before,
            after=after,
        ) as change,
    ):
        yield client, change


# ---------------------------------------------------------------------------------------------
# What Zoom refuses, said before the admin tries


DEFAULT_GROUP_REFUSAL = (
    "This is the account's default group: Zoom puts every new user in it and does not allow deleting it."
)


def user_refusals(user: DirectoryUser) -> dict[str, str]:
    """Actions Zoom refuses for this user, each with the reason (the pages disable them and say why).

    Zoom does not deactivate Owners or Admins through SCIM (their role must become Member first),
    never deletes the account owner, and cannot (de)activate a user who has not accepted the
    invitation yet.
    """
    refusals: dict[str, str] = {}
    if user.status == UserStatus.PENDING:
        reason = "This user has not accepted Zoom's invitation yet; Zoom cannot activate or deactivate them."
        refusals["deactivate"] = refusals["reactivate"] = reason
    elif user.role in (UserRole.OWNER, UserRole.ADMIN):
        refusals["deactivate"] = (
            f"Zoom does not deactivate a user with the {user.role} role through its API; "
            "change their role to Member in Zoom first."
        )
    if user.role == UserRole.OWNER:
        refusals["delete"] = "The account owner cannot be deleted."
    return refusals


# ---------------------------------------------------------------------------------------------
# Users


# Words in Zoom's refusal → the form field it is about (Zoom names the SCIM attribute).
_ERROR_FIELDS = (
    ("givenname", "first_name"),
    ("familyname", "last_name"),
    ("displayname", "display_name"),
    ("employeenumber", "employee_number"),
    ("costcenter", "cost_center"),
    ("organization", "organization"),
    ("division", "division"),
    ("department", "department"),
    ("manager", "manager"),
    ("usertype", "user_type"),
    ('"title"', "title"),
    ("username", "email"),
    ("user already exists", "email"),
)


def field_of_error(error: ZoomError, *, create: bool = False) -> str:
    """The form field Zoom's refusal is about (to show it beside that field), or "" if it names none."""
    if not isinstance(error, (Invalid, Conflict)):
        return ""
    text = f"{error.detail} {error.message}".lower()
    for needle, field in _ERROR_FIELDS:
        if needle in text and (create or field != "email"):
            return field
    return ""


def user_refresh(*, account: ZoomAccount, connection: ZoomConnection, zoom_user_id: str) -> DirectoryUser:
    """Read one user live from Zoom (full profile) and refresh its mirror row; returns the row.

    Zoom answering 404 means the user is gone: the row is removed and `NotFound` propagates.
    """
    with zoom_client(account=account, acting_as=connection) as client:
        try:
            live = client.get_user(zoom_user_id)
        except NotFound:
            mirror.mirror_user_remove(account=account, zoom_id=zoom_user_id)
            raise
    return mirror.mirror_user_apply(account=account, user=live, full=True)


def user_update(
    *, account: ZoomAccount, connection: ZoomConnection, user: DirectoryUser, values: dict[str, Any]
) -> DirectoryUser:
    """Send the fields of `values` that differ from Zoom's current ones (Zoom's PUT is partial).

    The user is read live first, so the diff (and the audit's before) is Zoom's truth, not the
    mirror's, and a field another admin changed meanwhile is not overwritten unless it was edited
    here. Nothing changed → no request, no event. `user_type` "" means "leave as it is".
    """
    wanted = {name: value for name, value in values.items() if name in USER_FIELDS}
    if not wanted.get("user_type"):
        wanted.pop("user_type", None)
    with zoom_client(account=account, acting_as=connection) as client:
        live = client.get_user(user.zoom_id)
        current = user_values(live)
        diff = values_diff(current, wanted)
        if not diff:
            return mirror.mirror_user_apply(account=account, user=live, full=True)
        payload = user_payload_build(live.email, {name: wanted[name] for name in diff}, current=current)
        with audit_change(
            account=account,
            actor=connection,
            action=AuditAction.USER_UPDATE,
            target_type=AuditTarget.USER,
            target_zoom_id=user.zoom_id,
            target_label=live.email,
            before={name: current.get(name, "") for name in diff},
            after={name: wanted[name] for name in diff},
        ) as change:
            answer = client.update_user(user.zoom_id, payload)
            answered = user_values(answer)
            change.after({name: answered.get(name, "") for name in diff})
    return mirror.mirror_user_apply(account=account, user=answer, full=True)


def user_set_active(
    *, account: ZoomAccount, connection: ZoomConnection, user: DirectoryUser, active: bool
) -> DirectoryUser:
    """Reactivate (`active=True`) or deactivate a user; Zoom's refusal (Owner, Admin, pending) propagates."""
    with _audited_call(
        account=account,
        connection=connection,
        action=AuditAction.USER_REACTIVATE if active else AuditAction.USER_DEACTIVATE,
        target_type=AuditTarget.USER,
        target_zoom_id=user.zoom_id,
        target_label=user.email,
        before={"active": user.active},
        after={"active": active},
    ) as (client, change):
        answer = client.set_user_active(user.zoom_id, active)
        change.after({"active": bool(answer.active)})
    return mirror.mirror_user_apply(account=account, user=answer, full=True)


def user_delete(*, account: ZoomAccount, connection: ZoomConnection, user: DirectoryUser) -> None:
    """Delete a user from Zoom, then from the mirror. If Zoom has no such user any more, the row goes too."""
    before = {"email": user.email, "name": user.display_name, "department": user.department, "title": user.title}
    try:
        with _audited_call(
            account=account,
            connection=connection,
            action=AuditAction.USER_DELETE,
            target_type=AuditTarget.USER,
            target_zoom_id=user.zoom_id,
            target_label=user.email,
            before=before,
            after={},
        ) as (client, _):
            client.delete_user(user.zoom_id)
    except NotFound:
        mirror.mirror_user_remove(account=account, zoom_id=user.zoom_id)
        raise
    mirror.mirror_user_remove(account=account, zoom_id=user.zoom_id)


def user_create(*, account: ZoomAccount, connection: ZoomConnection, values: dict[str, Any]) -> DirectoryUser:
    """Create a user in Zoom from the create form's values and add Zoom's answer to the mirror."""
    email = values["email"].strip()
    fields = {name: values.get(name) or "" for name in ("first_name", "last_name", "user_type", "title", "department")}
    payload = user_build(
        email=email,
        first_name=fields["first_name"],
        last_name=fields["last_name"],
        user_type=fields["user_type"] or None,
        title=fields["title"] or None,
        department=fields["department"] or None,
    )
    with _audited_call(
        account=account,
        connection=connection,
        action=AuditAction.USER_CREATE,
        target_type=AuditTarget.USER,
        target_label=email,
        before={},
        after={"email": email, **fields},
    ) as (client, change):
        answer = client.create_user(payload)
        answered = user_values(answer)
        change.after(
            {"email": answer.email, **{name: answered.get(name, "") for name in fields}},
            target_zoom_id=answer.id or "",
            target_label=answer.email,
        )
    return mirror.mirror_user_apply(account=account, user=answer, full=True)


def user_licenses(user: DirectoryUser) -> list[tuple[str, str]]:
    """The user's licenses and features as (name, plan value or ""), known ones first, in a stable order."""
    held = []
    for key, value in sorted((user.licenses or {}).items(), key=lambda item: (item[0] not in LICENSES, item[0])):
        if value is True:
            held.append((LICENSES.get(key, key), ""))
        elif isinstance(value, str) and value:
            held.append((LICENSES.get(key, key), value))
    return held


def user_groups(user: DirectoryUser) -> list[DirectoryGroup]:
    """The groups the mirror has this user in, by name (one query)."""
    return list(DirectoryGroup.objects.filter(memberships__user=user).order_by("display_name", "id"))


# ---------------------------------------------------------------------------------------------
# Export: the bulk import's columns, so a file exported and imported back plans no changes

EXPORT_COLUMNS = [
    ("Email", "email"),
    ("First Name", "given_name"),
    ("Last Name", "family_name"),
    ("Display Name", "display_name"),
    ("Department", "department"),
    ("Job Title", "title"),
    ("User Type", "user_type"),
    ("Groups", None),
    ("Employee Number", "employee_number"),
    ("Cost Center", "cost_center"),
    ("Organization", "organization"),
    ("Division", "division"),
    ("Manager", "manager"),
]
# Groups in one cell, as the import reads them (imports.rows.GROUP_SEPARATOR).
GROUP_SEPARATOR = ";"
EXPORT_CHUNK_SIZE = 2000


def users_csv_rows(users: QuerySet[DirectoryUser]) -> Iterator[list[str]]:
    """The header, then one row per user, every cell neutralised against spreadsheet formulas.

    Streams in chunks (memberships prefetched per chunk), so 250,000 users keep memory flat. Fields
    Zoom only returns on Get user are left empty for users whose profile is not fetched yet: an
    empty cell tells the import "leave as it is", never "clear".
    """
    yield [header for header, _ in EXPORT_COLUMNS]
    groups = Prefetch(
        "memberships", queryset=DirectoryMembership.objects.select_related("group").order_by("group__display_name")
    )
    for user in users.prefetch_related(groups).iterator(chunk_size=EXPORT_CHUNK_SIZE):
        row = []
        for _, attr in EXPORT_COLUMNS:
            if attr is None:
                value = GROUP_SEPARATOR.join(m.group.display_name for m in user.memberships.all())
            else:
                value = getattr(user, attr)
            row.append(csv_cell(value))
        yield row


# ---------------------------------------------------------------------------------------------
# Groups

# Zoom refuses PATCH bodies over 100,000 characters; keep a margin for what a proxy might add.
GROUP_PATCH_MAX_CHARS = 99_000


def _json_chars(value: Any) -> int:
    # As the client's HTTP library encodes request bodies: compact, non-ASCII kept as is.
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def patch_batches(
    user_ids: Sequence[str], *, remove: bool = False, max_chars: int = GROUP_PATCH_MAX_CHARS
) -> list[list[str]]:
    """Split members into PATCH bodies of at most `max_chars` characters, as the client builds them.

    Add: one operation with a list of `{"value": id}`. Remove: one `members[value eq "id"]`
    operation per member (`ZoomClient.remove_group_members`). The size is computed exactly, not
    estimated (tests compare with the client's body), so each request is as full as it may be.
    """
    element: Callable[[str], Any]
    if remove:
        envelope: dict[str, Any] = {"schemas": [PATCH_OP_SCHEMA], "Operations": []}

        def element(user_id: str) -> Any:
            return {"op": "remove", "path": f"members[value eq {filters.quote(user_id)}]"}
    else:
        envelope = {"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "add", "path": "members", "value": []}]}

        def element(user_id: str) -> Any:
            return {"value": user_id}

    base = _json_chars(envelope)
    batches: list[list[str]] = []
    batch: list[str] = []
    size = base
    for user_id in user_ids:
        cost = _json_chars(element(user_id)) + (1 if batch else 0)
        if batch and size + cost > max_chars:
            batches.append(batch)
            batch, size = [], base
            cost -= 1
        batch.append(user_id)
        size += cost
    if batch:
        batches.append(batch)
    return batches


def group_candidates(*, group: DirectoryGroup, q: str, limit: int) -> list[DirectoryUser]:
    """Users of the group's account matching `q` who are not in the group yet (the "add members" search)."""
    words = search_words(q)
    if not words:
        return []
    users = users_matching(group.account_id, words).exclude(memberships__group=group).order_by("email", "id")
    return list(users[:limit])


def _member_rows(group: DirectoryGroup, user_ids: Sequence[str]) -> list[DirectoryUser]:
    # Only users of this group's account: an id from another account (a forged form) is dropped.
    return list(DirectoryUser.objects.filter(account_id=group.account_id, zoom_id__in=list(user_ids)).order_by("email"))


def group_add_members(
    *, account: ZoomAccount, connection: ZoomConnection, group: DirectoryGroup, user_ids: Sequence[str]
) -> int:
    """Add users to a group: one PATCH per `patch_batches` batch, each audited; returns how many were added.

    Users already in the group (per the mirror) are not sent again. A batch Zoom refuses stops
    the work with its error; the batches before it stay applied, in Zoom and in the mirror.
    """
    existing = set(
        DirectoryMembership.objects.filter(group=group, user__zoom_id__in=list(user_ids)).values_list(
            "user__zoom_id", flat=True
        )
    )
    users = [user for user in _member_rows(group, user_ids) if user.zoom_id not in existing]
    return _members_change(account=account, connection=connection, group=group, users=users, remove=False)


def group_remove_members(
    *, account: ZoomAccount, connection: ZoomConnection, group: DirectoryGroup, user_ids: Sequence[str]
) -> int:
    """Remove users from a group (batched like `group_add_members`); returns how many were removed."""
    users = _member_rows(group, user_ids)
    return _members_change(account=account, connection=connection, group=group, users=users, remove=True)


def _members_change(
    *,
    account: ZoomAccount,
    connection: ZoomConnection,
    group: DirectoryGroup,
    users: Sequence[DirectoryUser],
    remove: bool,
) -> int:
    """Add or remove `users` in PATCHes under Zoom's body limit; each batch audited, then mirrored."""
    by_id = {user.zoom_id: user for user in users}
    done = 0
    with zoom_client(account=account, acting_as=connection) as client:
        for batch in patch_batches(list(by_id), remove=remove):
            emails = [by_id[zoom_id].email for zoom_id in batch]
            with audit_change(
                account=account,
                actor=connection,
                action=AuditAction.GROUP_REMOVE_MEMBERS if remove else AuditAction.GROUP_ADD_MEMBERS,
                target_type=AuditTarget.GROUP,
                target_zoom_id=group.zoom_id,
                target_label=group.display_name,
                changes={"members": [emails, None] if remove else [None, emails]},
            ):
                if remove:
                    client.remove_group_members(group.zoom_id, batch)
                else:
                    client.add_group_members(group.zoom_id, batch)
            members = [by_id[zoom_id] for zoom_id in batch]
            if remove:
                mirror.mirror_members_remove(group=group, users=members)
            else:
                mirror.mirror_members_add(group=group, users=members)
            done += len(batch)
    return done


def group_create(*, account: ZoomAccount, connection: ZoomConnection, name: str) -> DirectoryGroup:
    """Create a group in Zoom and add it to the mirror."""
    with _audited_call(
        account=account,
        connection=connection,
        action=AuditAction.GROUP_CREATE,
        target_type=AuditTarget.GROUP,
        target_label=name,
        before={},
        after={"name": name},
    ) as (client, change):
        answer = client.create_group(name)
        change.after({"name": answer.display_name}, target_zoom_id=answer.id or "", target_label=answer.display_name)
    return mirror.mirror_group_apply(account=account, zoom_group_payload_or_model=answer)


def group_rename(
    *, account: ZoomAccount, connection: ZoomConnection, group: DirectoryGroup, name: str
) -> DirectoryGroup:
    """Rename a group in Zoom (Zoom answers 204: the new name is the one it accepted)."""
    with _audited_call(
        account=account,
        connection=connection,
        action=AuditAction.GROUP_RENAME,
        target_type=AuditTarget.GROUP,
        target_zoom_id=group.zoom_id,
        target_label=group.display_name,
        before={"name": group.display_name},
        after={"name": name},
    ) as (client, _):
        client.rename_group(group.zoom_id, name)
    return mirror.mirror_group_rename(group=group, display_name=name)


def group_delete(*, account: ZoomAccount, connection: ZoomConnection, group: DirectoryGroup) -> None:
    """Delete a group in Zoom, then from the mirror. Zoom's refusal of the default group is remembered."""
    try:
        with _audited_call(
            account=account,
            connection=connection,
            action=AuditAction.GROUP_DELETE,
            target_type=AuditTarget.GROUP,
            target_zoom_id=group.zoom_id,
            target_label=group.display_name,
            before={"name": group.display_name, "members": group.member_count},
            after={},
        ) as (client, _):
            client.delete_group(group.zoom_id)
    except Invalid as exc:
        if "default group" in exc.detail.lower():
            mirror.mirror_group_mark_default(group=group)
        raise
    except NotFound:
        mirror.mirror_group_remove(account=account, zoom_id=group.zoom_id)
        raise
    mirror.mirror_group_remove(account=account, zoom_id=group.zoom_id)
