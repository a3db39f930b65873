"""The directory: a local mirror of each Zoom account's users, groups and memberships.

Zoom stays the source of truth (DESIGN invariant 1); the mirror exists because Zoom's SCIM API
can only filter with `eq` on three attributes and every call spends the account's shared rate
limit, so search, sort and facets over tens of thousands of users must come from here.

How the rows are kept (docs/directory.md has the whole story):

- A **sync** (`SyncRun`, `zoomadmin.directory.sync`) pages through List users and List groups.
  Each run has a *generation* number per account. A row is written only when what Zoom said
  about it changed (`payload_hash`), so a run that finds no changes writes no mirror rows;
  `updated_generation` is the run that last changed the row. Rows are removed only after a
  *complete* pass: anything still in the mirror after a complete pass of generation G was seen by
  G, so every row's "last seen in Zoom" is the account's `last_synced_at`.
- List users leaves out some fields (Zoom's reduced projection: the license block, manager,
  organization, costCenter; in practice also title, locale and phone numbers). Those columns
  (`ENRICHED_FIELDS`) are known only once **enrichment** (one Get user per user, in the
  background) has filled them: `enriched_at` is NULL until then, and pages say "pending".
- **Writes** made through the dashboard update the row from Zoom's answer
  (`zoomadmin.directory.services.mirror_user_apply` and friends).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from zoomadmin.accounts.models import ZoomAccount


class UserStatus(models.TextChoices):
    """Zoom's three user states. SCIM has only `active`; `pending` (invited, not accepted yet) is
    learned during enrichment from Zoom's refusal to find a pending user by `userName eq`."""

    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Deactivated"
    PENDING = "pending", "Pending"


class UserRole(models.TextChoices):
    """The Zoom role in the user's `roles` attribute; Zoom refuses some actions on Owners and Admins."""

    OWNER = "Owner", "Owner"
    ADMIN = "Admin", "Admin"
    MEMBER = "Member", "Member"


# Fields only Get user returns: blank and "pending" on a user whose `enriched_at` is NULL.
ENRICHED_FIELDS = (
    "title",
    "locale",
    "organization",
    "division",
    "cost_center",
    "manager",
    "phone_numbers",
    "licenses",
    "pronouns",
    "personal_link_name",
)


class DirectoryUser(models.Model):
    """One Zoom user of one account, as Zoom last described it.

    Columns from List users are always filled by a sync; the ENRICHED_FIELDS are known only once
    enrichment (or a detail page's live read) has fetched the full profile (`enriched_at` set).
    """

    # No index of its own: every index of this table starts with the account (migrations 0002-0004),
    # and each one more costs a first sync of 50,000 users a share of its writes.
    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="directory_users", db_index=False)
    zoom_id = models.CharField(max_length=64)
    # Zoom's `userName` (the sign-in email) as Zoom spells it, and a lowercased copy for lookups.
    user_name = models.CharField(max_length=254)
    email = models.CharField(max_length=254)
    given_name = models.CharField(max_length=200, blank=True)
    family_name = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=UserStatus.choices, default=UserStatus.ACTIVE)
    # Zoom's deprecated but still served `userType`: Basic, Licensed, On-Prem, ...
    user_type = models.CharField(max_length=32, blank=True)
    # Empty when Zoom sent no role.
    role = models.CharField(max_length=32, blank=True)
    # Enterprise extension fields that List users carries.
    department = models.CharField(max_length=200, blank=True)
    employee_number = models.CharField(max_length=100, blank=True)
    # ZoomUser extension (loginType); NULL when Zoom left it out.
    login_work_email = models.BooleanField(null=True, blank=True)
    login_sso = models.BooleanField(null=True, blank=True)

    # Get user only: meaningful once `enriched_at` is set (until then they are "not known yet",
    # and stay blank); see ENRICHED_FIELDS.
    title = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=32, blank=True)
    organization = models.CharField(max_length=200, blank=True)
    division = models.CharField(max_length=200, blank=True)
    cost_center = models.CharField(max_length=200, blank=True)
    # Zoom keeps the manager as an email string.
    manager = models.CharField(max_length=254, blank=True)
    # [{"type": "work", "value": "+1 ..."}, ...]
    phone_numbers = models.JSONField(default=list, blank=True)
    # The license and feature flags of the zoom:1.0:User block ({"zoomWhiteboard": true, ...}).
    licenses = models.JSONField(default=dict, blank=True)
    pronouns = models.CharField(max_length=100, blank=True)
    personal_link_name = models.CharField(max_length=200, blank=True)

    # The last payload Zoom sent for this user: a List users item, or a full Get user answer
    # after enrichment (whichever came last), and the hash of the last list item (change detection).
    raw = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=32, blank=True)
    zoom_created_at = models.DateTimeField(null=True, blank=True)
    # Zoom's meta.lastModified: enrichment takes the most recently changed users first.
    zoom_modified_at = models.DateTimeField(null=True, blank=True)
    # The sync generation that last created or changed this row (0: written outside a sync).
    updated_generation = models.PositiveIntegerField(default=0)
    # When the row's data last changed here (sync, enrichment or a write through the dashboard).
    mirror_updated_at = models.DateTimeField(default=timezone.now)
    # When the full profile was last fetched (NULL: never); `enrichment_due` = fetch it (again).
    enriched_at = models.DateTimeField(null=True, blank=True)
    enrichment_due = models.BooleanField(default=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["account", "zoom_id"], name="directoryuser_account_zoom_id_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["account", "email"], name="directoryuser_account_email"),
            # Enrichment's queue: due users of an account, most recently changed in Zoom first.
            models.Index(
                fields=["account", "-zoom_modified_at"],
                condition=Q(enrichment_due=True),
                name="directoryuser_enrichment_due",
            ),
        ]
        ordering: ClassVar = ["email", "id"]

    def __str__(self) -> str:
        return self.user_name

    @property
    def is_privileged(self) -> bool:
        """Owner or Admin: Zoom refuses to deactivate them through SCIM."""
        return self.role in (UserRole.OWNER, UserRole.ADMIN)

    @property
    def enrichment_pending(self) -> bool:
        """The Get-user-only fields (licenses, manager, ...) are not known yet."""
        return self.enriched_at is None


class DirectoryGroup(models.Model):
    """One Zoom user group of one account."""

    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="directory_groups")
    zoom_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=300)
    email_alias = models.CharField(max_length=254, blank=True)
    # Kept in step with the membership rows by every writer (sync and the membership helpers).
    member_count = models.PositiveIntegerField(default=0)
    # SCIM does not mark the account's default group; Zoom says so when asked to delete it
    # ("Cannot delete account default group."), and the mirror remembers (services.mirror_group_mark_default).
    is_default = models.BooleanField(default=False)
    raw = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=32, blank=True)
    zoom_modified_at = models.DateTimeField(null=True, blank=True)
    updated_generation = models.PositiveIntegerField(default=0)
    mirror_updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["account", "zoom_id"], name="directorygroup_account_zoom_id_unique"),
        ]
        ordering: ClassVar = ["display_name", "id"]

    def __str__(self) -> str:
        return self.display_name


class DirectoryMembership(models.Model):
    """A user's membership of a group (learned from Get group's `members`, or from the users'
    `groups` attribute where the server lists all of them: see sync.py)."""

    # A first sync writes a row per membership (173,000 for 50,000 users), so no index or check is
    # here twice: the unique (group, user) and the (user, group) indexes serve lookups by group and
    # by user. The database checks none of the three references: checking a group and a user for
    # every row was half of what writing a membership cost PostgreSQL (docs/benchmarks.md, directory
    # sync). Django deletes memberships with their account, group or user (every deletion goes
    # through the ORM), the sync only writes pairs of rows it has just stored, and a pass removes a
    # membership whose user vanished meanwhile (sync._Pass._store_memberships).
    account = models.ForeignKey(
        ZoomAccount, on_delete=models.CASCADE, related_name="directory_memberships", db_constraint=False
    )
    group = models.ForeignKey(
        DirectoryGroup, on_delete=models.CASCADE, related_name="memberships", db_index=False, db_constraint=False
    )
    user = models.ForeignKey(
        DirectoryUser, on_delete=models.CASCADE, related_name="memberships", db_index=False, db_constraint=False
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["group", "user"], name="directorymembership_group_user_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["user", "group"], name="directorymembership_user_group")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


def member_counts_refresh(group_pks: Iterable[int]) -> None:
    """Set `member_count` of these groups from their membership rows (the sync after a pass, the
    pages after a change): two reads, then one UPDATE for the groups whose count changed."""
    pks = set(group_pks)
    if not pks:
        return
    counted = dict(
        DirectoryMembership.objects.filter(group_id__in=pks).values_list("group_id").annotate(n=Count("pk")).order_by()
    )
    changed = [
        DirectoryGroup(pk=pk, member_count=counted.get(pk, 0))
        for pk, count in DirectoryGroup.objects.filter(pk__in=pks).values_list("pk", "member_count")
        if count != counted.get(pk, 0)
    ]
    DirectoryGroup.objects.bulk_update(changed, ["member_count"], batch_size=1000)


class SyncStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# A run in one of these states is the account's one active sync; a new request joins it.
ACTIVE_SYNC = (SyncStatus.QUEUED, SyncStatus.RUNNING)


class SyncRun(models.Model):
    """One pass (a *generation*) of the sync over one account, with its progress and outcome."""

    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="sync_runs")
    generation = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.QUEUED)
    # Who pressed "Sync now" (NULL: the periodic sync).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Moves whenever a page is stored; a running sync whose heartbeat stops is resumed by the sweeper.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Progress: List users/List groups pages (and Get group calls) planned and done.
    pages_total = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    users_seen = models.PositiveIntegerField(default=0)
    groups_seen = models.PositiveIntegerField(default=0)
    users_created = models.PositiveIntegerField(default=0)
    users_updated = models.PositiveIntegerField(default=0)
    users_removed = models.PositiveIntegerField(default=0)
    groups_created = models.PositiveIntegerField(default=0)
    groups_updated = models.PositiveIntegerField(default=0)
    groups_removed = models.PositiveIntegerField(default=0)
    memberships_added = models.PositiveIntegerField(default=0)
    memberships_removed = models.PositiveIntegerField(default=0)
    # Why it failed, as a sentence an admin can act on (Zoom's message, or who must sign in again).
    error = models.CharField(max_length=1000, blank=True)
    # Times the task was started for this run (a killed worker's run is started again from scratch).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["account", "generation"], name="syncrun_account_generation_unique"),
            # One sync per account at a time: a second request finds this row and joins it.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=ACTIVE_SYNC),
                name="syncrun_one_active_per_account",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["account", "-generation"], name="syncrun_account_latest")]
        ordering: ClassVar = ["-created", "-id"]

    def __str__(self) -> str:
        return f"sync #{self.generation} of account {self.account_id} [{self.status}]"

    @property
    def is_active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE_SYNC

    @property
    def rows_written(self) -> int:
        """Mirror rows this run created, changed or removed."""
        return (
            self.users_created
            + self.users_updated
            + self.users_removed
            + self.groups_created
            + self.groups_updated
            + self.groups_removed
            + self.memberships_added
            + self.memberships_removed
        )

    @property
    def duration_seconds(self) -> float | None:
        """How long the run took (None until it has finished)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
