"""Bulk changes: a change set (from a CSV, a selection, or an earlier job's failed rows), its rows and its job.

A `ChangeSet` is planned first (every row gets a planned outcome, nothing is sent to Zoom), then an
admin starts it and it becomes a job that Celery workers work through. Each `ChangeRow` is one
user operation: the ledger of the job. A row is *claimed* with a lease before it is applied, so two
workers never apply it at the same time and a crashed worker's rows are taken over (after a check
with Zoom) once the lease expires; its outcome (Zoom id, values before, what changed, Zoom's status
and message) is stored the moment Zoom answers. Group memberships are `GroupChange`s, sent per
group in as few PATCH requests as Zoom's body limit allows once their user's row is done.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection


class Source(models.TextChoices):
    CSV = "csv", "CSV file"
    SELECTION = "selection", "Selection in the users list"
    RETRY = "retry", "Failed rows of an earlier job"


class JobStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    PLANNED = "planned", "Ready to start"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


# A job in one of these states will not change any more.
ENDED = (JobStatus.CANCELLED, JobStatus.FINISHED, JobStatus.FAILED)


class Action(models.TextChoices):
    """What a row asks for (a CSV's `action` column, or the bulk action of a selection)."""

    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    UPSERT = "upsert", "Create or update"
    DEACTIVATE = "deactivate", "Deactivate"
    REACTIVATE = "reactivate", "Reactivate"
    DELETE = "delete", "Delete"
    ADD_TO_GROUP = "add_to_group", "Add to group"
    REMOVE_FROM_GROUP = "remove_from_group", "Remove from group"


class Outcome(models.TextChoices):
    """What the plan says will happen to a row, and (on `ChangeRow.result`) what did."""

    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    UNCHANGED = "unchanged", "Unchanged"
    DEACTIVATE = "deactivate", "Deactivate"
    REACTIVATE = "reactivate", "Reactivate"
    DELETE = "delete", "Delete"
    BLOCKED = "blocked", "Blocked"
    ERROR = "error", "Error"
    # Only as a result: Zoom refused the row (or it could not be applied).
    FAILED = "failed", "Failed"
    # Only as a result: the job was cancelled before the row was applied.
    NOT_APPLIED = "not_applied", "Not applied"


# Planned outcomes that send something to Zoom.
ACTIONABLE = (Outcome.CREATE, Outcome.UPDATE, Outcome.DEACTIVATE, Outcome.REACTIVATE, Outcome.DELETE)


class RowState(models.TextChoices):
    PENDING = "pending", "Waiting"
    CLAIMED = "claimed", "In progress"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ChangeSet(models.Model):
    """A list of intended changes to one Zoom account, its plan, and the job that applies it."""

    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="change_sets")
    # The admin the job acts as (their connection's tokens). Disconnected: the job pauses.
    created_by = models.ForeignKey(
        ZoomConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="change_sets"
    )
    # Kept as text so the history still says who started it after they disconnect.
    created_by_email = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CSV)
    file_name = models.CharField(max_length=255, blank=True)
    # For a selection: the bulk action in words ("Deactivate 50 users").
    title = models.CharField(max_length=255, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PLANNING)
    # Why the job is paused or failed, as a sentence for the admin.
    status_message = models.TextField(blank=True)
    # A job paused because Zoom refused its admin's sign-in resumes by itself once they sign in again.
    paused_for_signin = models.BooleanField(default=False)

    # The file's header as written (the results CSV repeats it), and columns nobody recognised.
    columns = models.JSONField(default=list, blank=True)
    unknown_columns = models.JSONField(default=list, blank=True)
    # Planned rows per outcome ({"create": 12, "error": 2, ...}) and invalid rows of the file.
    totals = models.JSONField(default=dict, blank=True)
    create_missing_groups = models.BooleanField(default=False)
    # Safeguard: how many users the set deactivates or deletes, and whether that needs a typed number.
    removals = models.PositiveIntegerField(default=0)
    # The account's active users when planned: the base of the safeguard's share.
    active_users = models.PositiveIntegerField(default=0)
    safeguard_required = models.BooleanField(default=False)
    estimate_seconds = models.FloatField(default=0.0)

    created = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)
    # Last time a worker stored a row's outcome: the sweeper resumes running jobs that stop moving.
    progress_at = models.DateTimeField(null=True, blank=True)
    # Set while the job waits for Zoom's rate limit (shown on the progress page).
    waiting_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["account", "-created"]),
            models.Index(fields=["status", "progress_at"]),
        ]

    def __str__(self) -> str:
        return f"change set {self.pk} of {self.account_id} ({self.status})"

    @property
    def has_ended(self) -> bool:
        """Whether the job can no longer change (cancelled, finished or failed)."""
        return self.status in ENDED

    @property
    def is_active(self) -> bool:
        """Whether the job is running or paused (the progress page keeps polling)."""
        return self.status in (JobStatus.RUNNING, JobStatus.PAUSED)

    @property
    def display_name(self) -> str:
        """How lists and headings name the change set."""
        return self.title or self.file_name or f"Change set {self.pk}"


class ChangeRow(models.Model):
    """One user operation of a change set: what was planned, and (once applied) what happened.

    `after` holds the wanted values (only the fields the row sets), `before` Zoom's values of those
    fields just before the change (for a revert), `changed` {field: [before, after]} of what the
    change actually altered. `reconcile` marks a row whose earlier attempt may have reached Zoom
    (an expired lease, or `OutcomeUnknown`): it is checked against Zoom before anything is sent.
    """

    change_set = models.ForeignKey(ChangeSet, on_delete=models.CASCADE, related_name="rows")
    # The CSV line (the header is line 1), or the position in the selection.
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    email = models.CharField(max_length=254, blank=True)
    zoom_id = models.CharField(max_length=64, blank=True)
    planned = models.CharField(max_length=16, choices=Outcome.choices)
    # Why a row is blocked or an error, or which fields an update changes, in words.
    planned_reason = models.TextField(blank=True)
    after = models.JSONField(default=dict, blank=True)
    planned_before = models.JSONField(default=dict, blank=True)
    groups = models.JSONField(default=list, blank=True)
    # The row's cells as in the file, for the results CSV.
    cells = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=16, choices=RowState.choices, default=RowState.PENDING)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    # Not to be claimed before this time (backoff after a 5xx or 429).
    retry_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reconcile = models.BooleanField(default=False)

    result = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    zoom_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    changed = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["change_set", "line"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["change_set", "line"], name="changerow_set_line_unique"),
        ]
        indexes: ClassVar = [
            # The claim: pending (or lease-expired) rows of one job, in line order.
            models.Index(fields=["change_set", "state", "line"]),
            models.Index(fields=["change_set", "planned"]),
            models.Index(fields=["change_set", "state", "applied_at"]),
        ]

    def __str__(self) -> str:
        return f"line {self.line} of change set {self.change_set_id}: {self.action} {self.email}"


class GroupOp(models.TextChoices):
    ADD = "add", "Add"
    REMOVE = "remove", "Remove"


class GroupChange(models.Model):
    """One user joining or leaving one group; sent together with the group's other changes.

    Adding a member who is already there, or removing one who is not, changes nothing in Zoom, so
    a membership PATCH whose outcome is unknown may simply be sent again.
    """

    change_set = models.ForeignKey(ChangeSet, on_delete=models.CASCADE, related_name="group_changes")
    row = models.ForeignKey(ChangeRow, on_delete=models.CASCADE, related_name="group_changes")
    group_name = models.CharField(max_length=200)
    group_zoom_id = models.CharField(max_length=64, blank=True)
    op = models.CharField(max_length=8, choices=GroupOp.choices)
    state = models.CharField(max_length=16, choices=RowState.choices, default=RowState.PENDING)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["change_set", "group_name", "id"]
        indexes: ClassVar = [models.Index(fields=["change_set", "state", "group_name"])]

    def __str__(self) -> str:
        return f"{self.op} {self.row_id} {self.group_name}"
