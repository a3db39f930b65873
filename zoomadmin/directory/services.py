"""The directory's services for everyone else: the mirror helpers, "Sync now" and freshness.

Keeping the mirror in step with writes made through the dashboard (DESIGN: writes go to Zoom
first; the mirror row is updated from Zoom's answer).

The users and groups pages and the bulk job engine call these right after Zoom accepted a change,
with what Zoom answered. A row written here gets an empty `payload_hash`, so the next sync
rewrites it from List users whatever it holds (a sync that was reading the account at the same
moment may have stored an older list item over it; the next pass corrects that).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.fastparse import (
    GroupRow,
    UserRow,
    group_row,
    group_row_from_model,
    user_row,
    user_row_from_model,
)
from zoomadmin.directory.models import (
    DirectoryGroup,
    DirectoryMembership,
    DirectoryUser,
    UserStatus,
    member_counts_refresh,
)
from zoomadmin.directory.sync import Freshness, sync_freshness, sync_request
from zoomadmin.zoom.models import ZoomGroup, ZoomUser

# "Sync now" (joins a running sync) and the pages' freshness line live with the sync.
__all__ = [
    "Freshness",
    "mirror_group_apply",
    "mirror_group_mark_default",
    "mirror_group_remove",
    "mirror_group_rename",
    "mirror_members_add",
    "mirror_members_remove",
    "mirror_user_apply",
    "mirror_user_remove",
    "sync_freshness",
    "sync_request",
]


def _user_values(row: UserRow, *, previous_status: str | None) -> dict[str, Any]:
    if row.active:
        status = UserStatus.ACTIVE
    elif previous_status == UserStatus.PENDING:
        status = UserStatus.PENDING
    else:
        status = UserStatus.INACTIVE
    values: dict[str, Any] = {
        "user_name": row.user_name,
        "email": row.email,
        "given_name": row.given_name,
        "family_name": row.family_name,
        "display_name": row.display_name,
        "active": row.active,
        "status": status,
        "user_type": row.user_type,
        "role": row.role,
        "department": row.department,
        "employee_number": row.employee_number,
        "login_work_email": row.login_work_email,
        "login_sso": row.login_sso,
        "zoom_created_at": row.zoom_created_at,
        "zoom_modified_at": row.zoom_modified_at,
        "payload_hash": "",
        "mirror_updated_at": timezone.now(),
    }
    profile = row.profile
    if profile is not None:
        # A full profile (Get user, PUT, PATCH answers): the enrichment fields are known now.
        values.update(
            title=profile.title,
            locale=profile.locale,
            organization=profile.organization,
            division=profile.division,
            cost_center=profile.cost_center,
            manager=profile.manager,
            phone_numbers=profile.phone_numbers,
            licenses=profile.licenses,
            pronouns=profile.pronouns,
            personal_link_name=profile.personal_link_name,
            enriched_at=values["mirror_updated_at"],
            enrichment_due=False,
        )
    else:
        values["enrichment_due"] = True
    return values


def mirror_user_apply(
    *,
    account: ZoomAccount,
    user: ZoomUser | dict[str, Any],
    full: bool | None = None,
    status: str | None = None,
) -> DirectoryUser:
    """Create or update the mirror row of a user from Zoom's answer (a `ZoomUser` or its JSON).

    `full`: the answer is a full profile (Get user, PUT, PATCH), so the Get-user-only fields are
    known now (enrichment done) even if Zoom left its license block out; default: a full profile
    is recognised by that block. Groups are not touched (a user's `groups` attribute may name only
    one group: see sync.py). `status` overrides the status derived from `active` (enrichment
    passes `pending`).
    """
    row = user_row_from_model(user, full=full) if isinstance(user, ZoomUser) else user_row(user, full=full)
    raw = user.model_dump(mode="json") if isinstance(user, ZoomUser) else user
    with transaction.atomic():
        previous = (
            DirectoryUser.objects.select_for_update()
            .filter(account=account, zoom_id=row.zoom_id)
            .values_list("status", flat=True)
            .first()
        )
        values = _user_values(row, previous_status=previous)
        if status is not None:
            values["status"] = status
        values["raw"] = raw
        mirrored, _created = DirectoryUser.objects.update_or_create(
            account=account, zoom_id=row.zoom_id, defaults=values
        )
    return mirrored


def mirror_user_remove(*, account: ZoomAccount, zoom_id: str) -> bool:
    """Remove a user Zoom deleted (its memberships go with it; member counts follow). True if a row went."""
    with transaction.atomic():
        group_ids = list(
            DirectoryMembership.objects.filter(account=account, user__zoom_id=zoom_id).values_list(
                "group_id", flat=True
            )
        )
        deleted, _ = DirectoryUser.objects.filter(account=account, zoom_id=zoom_id).delete()
        member_counts_refresh(group_ids)
    return deleted > 0


def mirror_group_apply(
    *, account: ZoomAccount, zoom_group_payload_or_model: ZoomGroup | dict[str, Any]
) -> DirectoryGroup:
    """Create or update the mirror row of a group from Zoom's answer (a `ZoomGroup` or its JSON).

    When the answer lists `members`, the group's memberships are replaced by them (members not in
    the mirror yet are left for the next sync).
    """
    source = zoom_group_payload_or_model
    row: GroupRow = group_row_from_model(source) if isinstance(source, ZoomGroup) else group_row(source)
    raw = source.model_dump(mode="json") if isinstance(source, ZoomGroup) else source
    with transaction.atomic():
        mirrored, _created = DirectoryGroup.objects.update_or_create(
            account=account,
            zoom_id=row.zoom_id,
            defaults={
                "display_name": row.display_name,
                "email_alias": row.email_alias,
                "raw": raw,
                "payload_hash": "",
                "zoom_modified_at": row.zoom_modified_at,
                "mirror_updated_at": timezone.now(),
            },
        )
        if row.member_ids is not None:
            user_pks = set(
                DirectoryUser.objects.filter(account=account, zoom_id__in=row.member_ids).values_list("pk", flat=True)
            )
            current = set(DirectoryMembership.objects.filter(group=mirrored).values_list("user_id", flat=True))
            DirectoryMembership.objects.filter(group=mirrored, user_id__in=current - user_pks).delete()
            DirectoryMembership.objects.bulk_create(
                [DirectoryMembership(account=account, group=mirrored, user_id=pk) for pk in user_pks - current],
                ignore_conflicts=True,
            )
            member_counts_refresh([mirrored.pk])
            mirrored.refresh_from_db(fields=["member_count"])
    return mirrored


def mirror_group_rename(*, group: DirectoryGroup, display_name: str) -> DirectoryGroup:
    """Zoom renamed the group (its PATCH answers 204 without a body: the name is the one it accepted)."""
    group.display_name = display_name
    group.payload_hash = ""
    group.mirror_updated_at = timezone.now()
    group.save(update_fields=["display_name", "payload_hash", "mirror_updated_at"])
    return group


def mirror_group_remove(*, account: ZoomAccount, zoom_id: str) -> bool:
    """Remove a group Zoom deleted (its memberships go with it). True if a row went."""
    deleted, _ = DirectoryGroup.objects.filter(account=account, zoom_id=zoom_id).delete()
    return deleted > 0


def mirror_group_mark_default(*, group: DirectoryGroup) -> None:
    """Zoom refused to delete the group as the account's default group: remember it, so the page
    can protect it up front (SCIM does not mark the default group)."""
    group.is_default = True
    group.save(update_fields=["is_default"])


def mirror_members_add(*, group: DirectoryGroup, users: Iterable[DirectoryUser]) -> int:
    """Zoom added these users to the group (its PATCH answered 204); returns the rows added."""
    with transaction.atomic():
        before = DirectoryMembership.objects.filter(group=group).count()
        DirectoryMembership.objects.bulk_create(
            [DirectoryMembership(account_id=group.account_id, group=group, user=user) for user in users],
            ignore_conflicts=True,
        )
        member_counts_refresh([group.pk])
        group.refresh_from_db(fields=["member_count"])
    return group.member_count - before


def mirror_members_remove(*, group: DirectoryGroup, users: Iterable[DirectoryUser]) -> int:
    """Zoom removed these users from the group; returns the rows removed."""
    with transaction.atomic():
        removed, _ = DirectoryMembership.objects.filter(group=group, user__in=[user.pk for user in users]).delete()
        member_counts_refresh([group.pk])
        group.refresh_from_db(fields=["member_count"])
    return removed
