"""Bulk changes: build a change set, start, pause, resume and cancel its job, report its progress and results.

Views and tasks call these; the row-by-row work is in `engine.py`. A change set is built from
`RowSpec`s (the plan of a CSV, a selection in the users list, or an earlier job's failed rows),
reviewed on the plan page, then started. Jobs are advanced by Celery tasks (`tasks.py`) that
each run one chunk; the sweeper (`jobs_sweep`) restarts jobs nobody is advancing.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from zoomadmin.accounts.models import ConnectionStatus, ZoomAccount, ZoomConnection
from zoomadmin.imports.models import (
    ACTIONABLE,
    Action,
    ChangeRow,
    ChangeSet,
    GroupChange,
    GroupOp,
    JobStatus,
    Outcome,
    RowState,
    Source,
)
from zoomadmin.spreadsheet import csv_cell
from zoomadmin.zoom.plans import LIGHT, plan_budget

# Rows written per INSERT when a change set is built.
BULK_BATCH_SIZE = 1000
# Zoom requests one row costs, for the estimate: updates and deletes read the user first.
REQUESTS_PER_OUTCOME = {
    Outcome.CREATE: 1,
    Outcome.UPDATE: 2,
    Outcome.DEACTIVATE: 1,
    Outcome.REACTIVATE: 1,
    Outcome.DELETE: 2,
}
RESULT_COLUMNS = ("zoomadmin_line", "zoomadmin_outcome", "zoomadmin_status", "zoomadmin_zoom_id", "zoomadmin_message")


class JobRefused(Exception):
    """A job action that cannot be done now; `message` says why, for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RowSpec:
    """One planned row of a change set, as the plan (or a selection, or a retry) describes it."""

    line: int
    action: str
    email: str
    planned: str
    zoom_id: str = ""
    after: dict[str, Any] = field(default_factory=dict)
    planned_before: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    # (op, group name): memberships to add or remove once the user's own change is done.
    groups: list[tuple[str, str]] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    # The row's earlier attempt may have reached Zoom: check before sending (retries of unknown outcomes).
    reconcile: bool = False


def changeset_create(
    *,
    account: ZoomAccount,
    connection: ZoomConnection,
    source: str,
    rows: Iterable[RowSpec],
    active_users: int,
    file_name: str = "",
    title: str = "",
    columns: list[str] | None = None,
    unknown_columns: list[str] | None = None,
    retry_of: ChangeSet | None = None,
    create_missing_groups: bool = False,
) -> ChangeSet:
    """Store a planned change set (nothing is sent to Zoom): rows, memberships, totals, safeguard, estimate.

    `active_users` is the account's number of active users, the base of the safeguard share.
    Rows planned as unchanged, blocked or error are stored as skipped: they are reported, never run.
    """
    if connection.account_id != account.pk:
        raise ValueError("The connection belongs to another Zoom account.")
    with transaction.atomic():
        change_set = ChangeSet.objects.create(
            account=account,
            created_by=connection,
            created_by_email=connection.zoom_email,
            source=source,
            file_name=file_name[:255],
            title=title[:255],
            columns=columns or [],
            unknown_columns=unknown_columns or [],
            retry_of=retry_of,
            create_missing_groups=create_missing_groups,
        )
        totals: Counter[str] = Counter()
        batch: list[tuple[ChangeRow, list[tuple[str, str]]]] = []
        for spec in rows:
            totals[spec.planned] += 1
            batch.append((_row_of(change_set, spec), spec.groups))
            if len(batch) >= BULK_BATCH_SIZE:
                _rows_write(change_set, batch)
                batch = []
        _rows_write(change_set, batch)
        _plan_finish(change_set, totals, active_users)
    return change_set


def _row_of(change_set: ChangeSet, spec: RowSpec) -> ChangeRow:
    runs = spec.planned in ACTIONABLE or spec.action in (Action.ADD_TO_GROUP, Action.REMOVE_FROM_GROUP)
    return ChangeRow(
        change_set=change_set,
        line=spec.line,
        action=spec.action,
        email=spec.email,
        zoom_id=spec.zoom_id,
        planned=spec.planned,
        planned_reason=spec.reason,
        after=spec.after,
        planned_before=spec.planned_before,
        groups=[f"{op}:{name}" for op, name in spec.groups],
        cells=spec.cells,
        reconcile=spec.reconcile,
        state=RowState.PENDING if runs else RowState.SKIPPED,
        result="" if runs else spec.planned,
        message="" if runs else spec.reason,
    )


def _rows_write(change_set: ChangeSet, batch: list[tuple[ChangeRow, list[tuple[str, str]]]]) -> None:
    if not batch:
        return
    created = ChangeRow.objects.bulk_create([row for row, _ in batch], batch_size=BULK_BATCH_SIZE)
    if not all(row.pk for row in created):
        # Backends without RETURNING on bulk inserts: read the ids back by line.
        ids = dict(
            ChangeRow.objects.filter(change_set=change_set, line__in=[row.line for row in created]).values_list(
                "line", "pk"
            )
        )
        for row in created:
            row.pk = ids[row.line]
    changes = [
        GroupChange(change_set=change_set, row=row, group_name=name, op=op)
        for row, groups in zip(created, [groups for _, groups in batch], strict=True)
        if row.state == RowState.PENDING
        for op, name in groups
    ]
    GroupChange.objects.bulk_create(changes, batch_size=BULK_BATCH_SIZE)


def _plan_finish(change_set: ChangeSet, totals: Counter[str], active_users: int) -> None:
    removals = totals[Outcome.DEACTIVATE] + totals[Outcome.DELETE]
    change_set.totals = dict(totals)
    change_set.removals = removals
    change_set.active_users = max(active_users, 0)
    change_set.safeguard_required = removals > 0 and removals > float(settings.IMPORTS_SAFEGUARD_SHARE) * max(
        active_users, 0
    )
    change_set.estimate_seconds = estimate_seconds(change_set.account, totals, groups=change_set.group_changes.count())
    change_set.status = JobStatus.PLANNED
    change_set.save()


def estimate_seconds(account: ZoomAccount, totals: Counter[str] | dict[str, int], *, groups: int = 0) -> float:
    """How long the job takes at the account's Light budget (our share of it): requests ÷ rate.

    Memberships go out about one request per group and hundreds of members, so they add little.
    """
    budget = plan_budget(plan=account.plan, label=LIGHT, share=float(settings.ZOOM_RATE_LIMIT_SHARE))
    requests = sum(REQUESTS_PER_OUTCOME.get(Outcome(outcome), 0) * n for outcome, n in totals.items() if n)
    requests += max(1, groups // 500) if groups else 0
    return requests / (budget.per_window / budget.window)


# ---------------------------------------------------------------------------------------------
# Job control


def _enqueue_chunks(change_set: ChangeSet, count: int) -> None:
    # Tasks import services; the import is here to keep that one direction at module load.
    from zoomadmin.imports.tasks import job_run_chunk

    for _ in range(count):
        job_run_chunk.delay_on_commit(change_set.pk)


def job_start(*, change_set: ChangeSet, connection: ZoomConnection, typed_count: int | None = None) -> ChangeSet:
    """Start a planned change set's job (acting as the admin who built it).

    Refused (`JobRefused`) unless the set is planned, has something to do, and, when the safeguard
    applies, `typed_count` is exactly the number of users it deactivates or deletes.
    """
    if change_set.account_id != connection.account_id:
        raise ValueError("The connection belongs to another Zoom account.")
    if change_set.status != JobStatus.PLANNED:
        raise JobRefused(f"This change set is {change_set.get_status_display().lower()}; it cannot be started again.")
    if not change_set.rows.filter(state=RowState.PENDING).exists():
        raise JobRefused("Nothing to do: every row is unchanged, blocked or an error.")
    if change_set.safeguard_required and typed_count != change_set.removals:
        raise JobRefused(
            f"This change deactivates or deletes {change_set.removals} users. "
            f"Type {change_set.removals} to confirm before starting."
        )
    now = timezone.now()
    with transaction.atomic():
        started = ChangeSet.objects.filter(pk=change_set.pk, status=JobStatus.PLANNED).update(
            status=JobStatus.RUNNING, started_at=now, progress_at=now, status_message=""
        )
        if not started:
            raise JobRefused("Someone else started this change set a moment ago.")
        change_set.refresh_from_db()
        _enqueue_chunks(change_set, int(settings.IMPORTS_PARALLEL_CHUNKS))
    return change_set


def job_pause(*, change_set: ChangeSet, connection: ZoomConnection) -> ChangeSet:
    """Pause a running job: rows in flight finish and are stored, no new row is started."""
    who = connection.zoom_display_name or connection.zoom_email
    paused = ChangeSet.objects.filter(pk=change_set.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.PAUSED, status_message=f"Paused by {who}.", paused_for_signin=False
    )
    if not paused:
        raise JobRefused("Only a running job can be paused.")
    change_set.refresh_from_db()
    return change_set


def job_resume(*, change_set: ChangeSet, connection: ZoomConnection) -> ChangeSet:
    """Resume a paused job. If the admin it acted as is disconnected or signed out, it now acts as `connection`."""
    if change_set.status != JobStatus.PAUSED:
        raise JobRefused("Only a paused job can be resumed.")
    acting_as = change_set.created_by
    if acting_as is None or acting_as.status != ConnectionStatus.ACTIVE:
        if connection.status != ConnectionStatus.ACTIVE:
            raise JobRefused("Zoom no longer accepts your sign-in. Sign in with Zoom again, then resume.")
        acting_as = connection
    now = timezone.now()
    with transaction.atomic():
        resumed = ChangeSet.objects.filter(pk=change_set.pk, status=JobStatus.PAUSED).update(
            status=JobStatus.RUNNING,
            status_message="",
            paused_for_signin=False,
            created_by=acting_as,
            progress_at=now,
        )
        if not resumed:
            raise JobRefused("Only a paused job can be resumed.")
        change_set.refresh_from_db()
        _enqueue_chunks(change_set, int(settings.IMPORTS_PARALLEL_CHUNKS))
    return change_set


def job_cancel(*, change_set: ChangeSet, connection: ZoomConnection) -> ChangeSet:
    """Cancel a planned, running or paused job: rows not started are marked not applied.

    Rows in flight at this moment still finish and are stored (Zoom may already have them).
    """
    who = connection.zoom_display_name or connection.zoom_email
    now = timezone.now()
    with transaction.atomic():
        cancelled = ChangeSet.objects.filter(
            pk=change_set.pk, status__in=(JobStatus.PLANNED, JobStatus.RUNNING, JobStatus.PAUSED)
        ).update(status=JobStatus.CANCELLED, status_message=f"Cancelled by {who}.", finished_at=now, waiting_until=None)
        if not cancelled:
            raise JobRefused("This job has already ended.")
        ChangeRow.objects.filter(change_set=change_set, state=RowState.PENDING).update(
            state=RowState.SKIPPED, result=Outcome.NOT_APPLIED, message="Not applied: the job was cancelled."
        )
        GroupChange.objects.filter(change_set=change_set, state=RowState.PENDING).update(
            state=RowState.SKIPPED, message="Not sent: the job was cancelled."
        )
    change_set.refresh_from_db()
    return change_set


def jobs_sweep() -> list[int]:
    """Restart what nobody is advancing; returns the ids of the jobs it restarted.

    - a running job with no outcome stored for `IMPORTS_STALL_SECONDS` and work that can be
      claimed now (its workers died, or Redis lost its queued tasks) gets new chunk tasks;
    - a job paused because Zoom refused its admin's sign-in resumes once that admin signs in again;
    - a cancelled job's rows left claimed by a dead worker are closed as unknown.
    """
    now = timezone.now()
    stalled_before = now - timedelta(seconds=float(settings.IMPORTS_STALL_SECONDS))
    restarted: list[int] = []
    claimable = (Q(rows__state=RowState.PENDING) & (Q(rows__retry_at__isnull=True) | Q(rows__retry_at__lte=now))) | Q(
        rows__state=RowState.CLAIMED, rows__lease_expires__lt=now
    )
    stalled = (
        ChangeSet.objects.filter(status=JobStatus.RUNNING)
        .filter(Q(progress_at__isnull=True) | Q(progress_at__lt=stalled_before))
        .filter(claimable)
        .distinct()
    )
    for change_set in stalled:
        with transaction.atomic():
            # Counts as progress, so one sweep restarts a job once, not on every beat until it moves.
            touched = ChangeSet.objects.filter(pk=change_set.pk, status=JobStatus.RUNNING).update(progress_at=now)
            if touched:
                _enqueue_chunks(change_set, int(settings.IMPORTS_PARALLEL_CHUNKS))
                restarted.append(change_set.pk)
    stalled_groups = ChangeSet.objects.filter(
        status=JobStatus.RUNNING,
        progress_at__lt=stalled_before,
        group_changes__state__in=(RowState.PENDING, RowState.CLAIMED),
    ).exclude(pk__in=restarted)
    for change_set in stalled_groups.distinct():
        with transaction.atomic():
            if ChangeSet.objects.filter(pk=change_set.pk, status=JobStatus.RUNNING).update(progress_at=now):
                _enqueue_chunks(change_set, 1)
                restarted.append(change_set.pk)
    for change_set in ChangeSet.objects.filter(
        status=JobStatus.PAUSED, paused_for_signin=True, created_by__status=ConnectionStatus.ACTIVE
    ).select_related("created_by"):
        assert change_set.created_by is not None
        try:
            job_resume(change_set=change_set, connection=change_set.created_by)
        except JobRefused:
            continue
        restarted.append(change_set.pk)
    ChangeRow.objects.filter(
        change_set__status=JobStatus.CANCELLED, state=RowState.CLAIMED, lease_expires__lt=now
    ).update(
        state=RowState.FAILED,
        result=Outcome.FAILED,
        lease_owner="",
        lease_expires=None,
        reconcile=True,
        message="The job was cancelled while this row was being applied: check this user in Zoom.",
    )
    return restarted


# ---------------------------------------------------------------------------------------------
# Progress and results


@dataclass
class Progress:
    """What the progress page shows about a job."""

    total: int
    done: int
    failed: int
    skipped: int
    remaining: int
    rows_per_second: float | None
    seconds_left: float | None
    waiting_on_rate_limit: bool
    latest_errors: list[ChangeRow]

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def to_apply(self) -> int:
        """The rows the job sends to Zoom: not those planned to be left alone, nor those cancelled."""
        return self.done + self.failed + self.remaining


def job_progress(change_set: ChangeSet, *, errors: int = 5) -> Progress:
    """Counts by row state, the rate over the last minute (or since the start), time left, latest errors."""
    counts = dict(change_set.rows.values_list("state").annotate(n=Count("id")).order_by().values_list("state", "n"))
    done = counts.get(RowState.DONE, 0)
    failed = counts.get(RowState.FAILED, 0)
    skipped = counts.get(RowState.SKIPPED, 0)
    remaining = counts.get(RowState.PENDING, 0) + counts.get(RowState.CLAIMED, 0)
    total = done + failed + skipped + remaining
    rate: float | None = None
    now = timezone.now()
    if change_set.started_at is not None:
        window_start = max(change_set.started_at, now - timedelta(seconds=60))
        end = change_set.finished_at or now
        seconds = (end - window_start).total_seconds() if change_set.finished_at is None else None
        if seconds is None:
            seconds = (end - change_set.started_at).total_seconds()
            recent = done + failed
        else:
            recent = change_set.rows.filter(
                state__in=(RowState.DONE, RowState.FAILED), applied_at__gte=window_start
            ).count()
        if seconds > 0 and recent:
            rate = recent / seconds
    seconds_left = remaining / rate if rate and remaining and change_set.status == JobStatus.RUNNING else None
    waiting = change_set.waiting_until is not None and change_set.waiting_until > now
    latest = list(change_set.rows.filter(state=RowState.FAILED).order_by("-applied_at", "-line")[:errors])
    return Progress(
        total=total,
        done=done,
        failed=failed,
        skipped=skipped,
        remaining=remaining,
        rows_per_second=rate,
        seconds_left=seconds_left,
        waiting_on_rate_limit=waiting,
        latest_errors=latest,
    )


def results_csv(change_set: ChangeSet) -> Iterator[str]:
    """The results file, line by line: the original columns, then the outcome columns, one line per row.

    Every cell is neutralised against formula injection (Zoom's messages and the file's own cells
    alike); rows are read in batches, so a 100,000-row job streams in constant memory.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(cell) for cell in cells])
        return buffer.getvalue()

    columns = list(change_set.columns) or ["email", "action"]
    yield line([*columns, *RESULT_COLUMNS])
    rows = change_set.rows.order_by("line").values_list(
        "line", "cells", "email", "action", "result", "planned", "state", "zoom_id", "message", "planned_reason"
    )
    for number, cells, email, action, result, planned, state, zoom_id, message, reason in rows.iterator(
        chunk_size=2000
    ):
        original = list(cells) if cells else [email, action]
        original += [""] * (len(columns) - len(original))
        outcome = result or planned
        yield line([*original, str(number), outcome, state, zoom_id, message or reason])


def changeset_retry_failed(*, change_set: ChangeSet, connection: ZoomConnection) -> ChangeSet:
    """A new planned change set made of the failed rows of `change_set` (same plan, same lines).

    Rows whose earlier outcome was unknown keep `reconcile`, so the retry checks Zoom first.
    """
    failed = list(change_set.rows.filter(state=RowState.FAILED).order_by("line"))
    if not failed:
        raise JobRefused("This job has no failed rows to retry.")
    specs = [
        RowSpec(
            line=row.line,
            action=row.action,
            email=row.email,
            planned=row.planned,
            zoom_id=row.zoom_id,
            after=row.after,
            planned_before=row.planned_before,
            reason=row.planned_reason,
            groups=[_group_pair(item) for item in row.groups],
            cells=row.cells,
            reconcile=row.reconcile,
        )
        for row in failed
    ]
    return changeset_create(
        account=change_set.account,
        connection=connection,
        source=Source.RETRY,
        rows=specs,
        active_users=change_set.active_users,
        file_name=change_set.file_name,
        title=f"Retry of failed rows of {change_set.display_name}",
        columns=list(change_set.columns),
        retry_of=change_set,
        create_missing_groups=change_set.create_missing_groups,
    )


def _group_pair(item: str) -> tuple[str, str]:
    op, _, name = item.partition(":")
    return (op if op in GroupOp.values else GroupOp.ADD, name)
