"""Bulk actions on a selection of the users list: a change set planned from the mirror, run as a job.

The selection is either ticked users (their Zoom ids) or every user matching the list's filters.
Each user becomes one row with the same plan rules as a CSV row (`plan.py`): Owners and Admins
cannot be deactivated or deleted, pending users cannot be activated or deactivated, a user already
in the wanted state is unchanged. The rows are read from the mirror in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from django.db.models import QuerySet

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.models import DirectoryGroup, DirectoryMembership, DirectoryUser, UserRole, UserStatus
from zoomadmin.directory.search import UserFilters, users_search
from zoomadmin.imports.models import Action, ChangeSet, GroupOp, Outcome, Source
from zoomadmin.imports.plan import PENDING_ACTIVE, PLAN_CHUNK_SIZE, PlanRefused, active_users_count, mirror_check
from zoomadmin.imports.services import RowSpec, changeset_create

SELECTION_ACTIONS = (
    Action.DEACTIVATE,
    Action.REACTIVATE,
    Action.DELETE,
    Action.ADD_TO_GROUP,
    Action.REMOVE_FROM_GROUP,
)
_COLUMNS = ("zoom_id", "email", "active", "status", "role")


def selection_users(
    *, account: ZoomAccount, zoom_user_ids: Sequence[str] | None = None, filters: UserFilters | None = None
) -> QuerySet[DirectoryUser]:
    """The selected users of the account: the ticked ids, else every user matching `filters`."""
    users = DirectoryUser.objects.filter(account=account)
    if zoom_user_ids:
        return users.filter(zoom_id__in=list(zoom_user_ids)).order_by("email", "id")
    if filters is None:
        return users.none()
    search = replace(filters, ids=[])
    return users_search(account, search).order_by("email", "id")


def selection_title(action: str, count: int, group: DirectoryGroup | None) -> str:
    """The change set's name in the job history ("Deactivate 50 users")."""
    label = Action(action).label
    users = f"{count} user{'s' if count != 1 else ''}"
    if group is not None:
        preposition = "to" if action == Action.ADD_TO_GROUP else "from"
        return f"{label.split(' ')[0]} {users} {preposition} {group.display_name}"
    return f"{label} {users}"


def changeset_from_selection(
    *,
    account: ZoomAccount,
    connection: ZoomConnection,
    action: str,
    zoom_user_ids: Sequence[str] | None = None,
    filters: UserFilters | None = None,
    group: DirectoryGroup | None = None,
) -> ChangeSet:
    """Plan `action` on the selected users (ticked `zoom_user_ids`, or all matching `filters`) as a change set.

    `group` is required for adding to or removing from a group. Raises `PlanRefused` with a sentence
    when the mirror was never synced, the selection is empty, or the action needs a group.
    """
    if action not in SELECTION_ACTIONS:
        raise PlanRefused(f"“{action}” is not a bulk action.")
    if action in (Action.ADD_TO_GROUP, Action.REMOVE_FROM_GROUP) and (group is None or group.account_id != account.pk):
        raise PlanRefused("Choose the group to add the users to or remove them from.")
    mirror_check(account)
    users = selection_users(account=account, zoom_user_ids=zoom_user_ids, filters=filters)
    count = users.count()
    if not count:
        raise PlanRefused("No users are selected.")
    change_set = changeset_create(
        account=account,
        connection=connection,
        source=Source.SELECTION,
        rows=_rows(users, action, group),
        active_users=active_users_count(account),
        title=selection_title(action, count, group),
        columns=["Email"],
    )
    if action == Action.DELETE and change_set.removals and not change_set.safeguard_required:
        # Deleting cannot be undone: a bulk delete always asks for the number typed, whatever the share.
        change_set.safeguard_required = True
        change_set.save(update_fields=["safeguard_required", "updated"])
    return change_set


def _rows(users: QuerySet[DirectoryUser], action: str, group: DirectoryGroup | None) -> Iterator[RowSpec]:
    line = 0
    chunk: list[DirectoryUser] = []
    for user in users.only(*_COLUMNS).iterator(chunk_size=PLAN_CHUNK_SIZE):
        chunk.append(user)
        if len(chunk) >= PLAN_CHUNK_SIZE:
            yield from _chunk(chunk, action, group, line)
            line += len(chunk)
            chunk = []
    yield from _chunk(chunk, action, group, line)


def _chunk(chunk: list[DirectoryUser], action: str, group: DirectoryGroup | None, start: int) -> Iterator[RowSpec]:
    members: set[int] = set()
    if group is not None and chunk:
        members = set(
            DirectoryMembership.objects.filter(group=group, user_id__in=[user.pk for user in chunk]).values_list(
                "user_id", flat=True
            )
        )
    for offset, user in enumerate(chunk, start=1):
        yield _row(user, action, group, start + offset, user.pk in members)


def _row(user: DirectoryUser, action: str, group: DirectoryGroup | None, line: int, member: bool) -> RowSpec:
    spec = RowSpec(
        line=line, action=action, email=user.email, planned=Outcome.ERROR, zoom_id=user.zoom_id, cells=[user.email]
    )
    privileged = user.role in (UserRole.OWNER, UserRole.ADMIN)
    pending = user.status == UserStatus.PENDING
    if action == Action.DEACTIVATE:
        if pending:
            spec.planned, spec.reason = Outcome.BLOCKED, PENDING_ACTIVE
        elif not user.active:
            spec.planned, spec.reason = Outcome.UNCHANGED, "Already deactivated."
        elif privileged:
            spec.planned = Outcome.BLOCKED
            spec.reason = (
                f"Zoom does not deactivate a user with the {user.role} role; change their role to Member in Zoom first."
            )
        else:
            spec.planned, spec.planned_before = Outcome.DEACTIVATE, {"active": True}
    elif action == Action.REACTIVATE:
        if pending:
            spec.planned, spec.reason = Outcome.BLOCKED, PENDING_ACTIVE
        elif user.active:
            spec.planned, spec.reason = Outcome.UNCHANGED, "Already active."
        else:
            spec.planned, spec.planned_before = Outcome.REACTIVATE, {"active": False}
    elif action == Action.DELETE:
        if privileged:
            spec.planned = Outcome.BLOCKED
            spec.reason = (
                f"A user with the {user.role} role cannot be deleted here; change their role to Member in Zoom first."
            )
        else:
            spec.planned, spec.planned_before = Outcome.DELETE, {"active": user.active}
    else:
        assert group is not None
        adding = action == Action.ADD_TO_GROUP
        if member == adding:
            spec.planned = Outcome.UNCHANGED
            spec.reason = f"Already in {group.display_name}." if adding else f"Not in {group.display_name}."
        else:
            spec.planned = Outcome.UPDATE
            spec.reason = f"{'Joins' if adding else 'Leaves'} “{group.display_name}”."
            spec.groups = [(GroupOp.ADD if adding else GroupOp.REMOVE, group.display_name)]
    return spec
