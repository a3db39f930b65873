"""The job engine: claim rows with a lease, apply each once, store its outcome the moment Zoom answers.

One call of `job_work` is one *chunk*: it works on a job for up to `IMPORTS_CHUNK_SECONDS` and then
hands back, so any number of Celery workers (on any number of machines) can share a job, and a
dead one costs at most one lease. Inside a chunk a small pool of threads keeps
`IMPORTS_CONCURRENCY` requests in flight, so Zoom's latency does not bound the rate; the shared
Redis limiter keeps every thread of every worker inside the account's budget.

Exactly once, and why it holds:

- **The claim** (`rows_claim`) is the one door to applying a row: in one transaction it picks
  pending rows (and rows whose lease expired) with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL,
  then marks them claimed by this chunk with a conditional UPDATE that re-checks the state, so two
  claimers can never both win a row, on PostgreSQL or on SQLite (which has no row locks).
- **The lease** is renewed while the chunk lives. A row whose lease expired belonged to a worker
  that died, possibly after sending its request: it is claimed with `reconcile` set, and such a row
  (like one whose answer never came, `OutcomeUnknown`) is first checked against Zoom: a create looks
  the user up by email, an update compares the fields, a delete looks for the user.
- **Creates cannot duplicate**: Zoom keeps one user per email, so a create that meets an existing
  user (409, or found while reconciling) becomes the planned update instead.
- **Storing an outcome** is guarded by the lease owner: a chunk that lost its lease cannot
  overwrite what the next owner found.

Retries: 429 and "busy limiter" waits under a second are waited out inside the thread (that keeps
the pipeline full at the budget's rate); longer ones release the row with `retry_at` and the chunk
ends early so the task can be rescheduled with that countdown instead of holding a worker. 5xx and
unknown outcomes are retried with exponential backoff up to `MAX_ATTEMPTS`. Other 4xx fail the row
with Zoom's sentence and the job goes on. A refused sign-in (`Unauthorized`, `NoUsableConnection`)
pauses the job until its admin signs in again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, F, Min, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from django.utils import timezone
from scim2_models import Name

from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditResult, AuditTarget
from zoomadmin.audit.services import AuditEntry, audit_record, audit_record_many
from zoomadmin.imports.models import (
    Action,
    ChangeRow,
    ChangeSet,
    GroupChange,
    GroupOp,
    JobStatus,
    Outcome,
    RowState,
)
from zoomadmin.zoom import filters
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import (
    Conflict,
    Invalid,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unauthorized,
    Unavailable,
    ZoomError,
)
from zoomadmin.zoom.models import ZoomEnterpriseUser, ZoomUser, user_build

logger = logging.getLogger(__name__)

# Transient failures (5xx, unknown outcomes, lost leases) of one row before it is given up as failed.
MAX_ATTEMPTS = 6
# Backoff after a transient failure: BASE * 2^(attempt-1), capped.
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 120.0
# Rate-limit waits up to this long are slept inside the chunk's thread; longer ones reschedule.
SHORT_WAIT_SECONDS = 1.0
# Zoom refuses PATCH bodies over 100,000 characters; stay well below with members per request.
GROUP_PATCH_MAX_CHARS = 90_000
# Characters per member in a PATCH body, generously ({"value": "<id>"}, or the remove filter).
GROUP_MEMBER_CHARS = 80

# The user fields a row can set, as plain names (the keys of `ChangeRow.after`, `before`, `changed`).
NAME_FIELDS = ("first_name", "last_name")
CORE_FIELDS = ("display_name", "user_type", "title")
ENTERPRISE_FIELDS = ("department", "manager", "employee_number", "cost_center", "organization", "division")
USER_FIELDS = (*NAME_FIELDS, *CORE_FIELDS, *ENTERPRISE_FIELDS)
# The directory mirror's column of each of them (the plan reads the mirror, the edit form fills from it).
MIRROR_COLUMNS = {
    "first_name": "given_name",
    "last_name": "family_name",
    **{name: name for name in (*CORE_FIELDS, *ENTERPRISE_FIELDS)},
}


def user_values(user: ZoomUser) -> dict[str, Any]:
    """A Zoom user's values of every field a row can set, plus `active` (empty string for unset)."""
    enterprise = user[ZoomEnterpriseUser]
    values: dict[str, Any] = {
        "first_name": (user.name.given_name if user.name else None) or "",
        "last_name": (user.name.family_name if user.name else None) or "",
        "display_name": user.display_name or "",
        "user_type": user.user_type or "",
        "title": user.title or "",
    }
    for name in ENTERPRISE_FIELDS:
        values[name] = (getattr(enterprise, name, None) if enterprise is not None else None) or ""
    values["active"] = bool(user.active) if user.active is not None else True
    return values


def _same(old: Any, new: Any) -> bool:
    # Zoom leaves out what is empty; the file says "" for it: both are "no value".
    if old in (None, "") and new in (None, ""):
        return True
    if isinstance(old, str) and isinstance(new, str):
        return old == new
    return bool(old == new)


def values_diff(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [current, wanted]} for the wanted fields whose value differs from the current one."""
    return {
        name: [current.get(name, ""), value] for name, value in wanted.items() if not _same(current.get(name), value)
    }


def user_payload_build(email: str, values: dict[str, Any], *, current: dict[str, Any] | None = None) -> ZoomUser:
    """A create (or partial update) payload setting `values`; names are sent whole (given and family)."""
    user = user_build(email=email)
    merged = {**(current or {}), **values}
    if any(name in values for name in NAME_FIELDS):
        user.name = Name(given_name=merged.get("first_name") or None, family_name=merged.get("last_name") or None)
    for name in CORE_FIELDS:
        if name in values:
            setattr(user, name, values[name])
    enterprise = {name: values[name] for name in ENTERPRISE_FIELDS if name in values}
    if enterprise:
        user[ZoomEnterpriseUser] = ZoomEnterpriseUser(**enterprise)
    return user


# ---------------------------------------------------------------------------------------------
# What one attempt at a row comes to


@dataclass(frozen=True)
class RowWork:
    """What a thread needs to apply one claimed row (a snapshot: threads do not share model instances)."""

    id: int
    line: int
    action: str
    planned: str
    email: str
    zoom_id: str
    after: dict[str, Any]
    before: dict[str, Any] | None
    reconcile: bool
    attempts: int

    @classmethod
    def of(cls, row: ChangeRow) -> RowWork:
        return cls(
            id=row.pk,
            line=row.line,
            action=row.action,
            planned=row.planned,
            email=row.email,
            zoom_id=row.zoom_id,
            after=dict(row.after or {}),
            before=row.before,
            reconcile=row.reconcile,
            attempts=row.attempts,
        )


@dataclass
class Applied:
    """The row's final outcome: done (with what Zoom did) or failed (with Zoom's sentence)."""

    state: str
    result: str
    zoom_id: str = ""
    before: dict[str, Any] | None = None
    changed: dict[str, list[Any]] = field(default_factory=dict)
    status: int | None = None
    message: str = ""
    # Whether Zoom's state may have changed (an audit event is due), and whether it is unknown.
    audited: bool = True
    unknown: bool = False


@dataclass
class Retry:
    """Try the row again later: nothing is known to be applied (or it must be reconciled first)."""

    after: float
    message: str
    reconcile: bool
    rate_limited: bool = False


class PauseJob(Exception):
    """Zoom refused the job's sign-in: pause the job until its admin signs in again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def backoff_seconds(attempts: int) -> float:
    """The wait before attempt `attempts + 1` after a transient failure (exponential, capped)."""
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)))


class Checkpoint:
    """Stores a row's values before the change as soon as they are read, before the change is sent.

    Written from the applying thread, guarded by the lease like every write to a claimed row: if
    the worker dies after sending the change, the next owner still has the values to revert to.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner

    def save_before(self, work: RowWork, before: dict[str, Any], zoom_id: str) -> None:
        mine = ChangeRow.objects.filter(pk=work.id, lease_owner=self.owner, state=RowState.CLAIMED)
        mine.filter(before__isnull=True).update(before=before, zoom_id=zoom_id)


def row_attempt(client: ZoomClient, work: RowWork, checkpoint: Checkpoint, *, deadline: float) -> Applied | Retry:
    """One attempt at a claimed row; every Zoom error becomes an outcome, a retry or a pause.

    Raises `PauseJob` when Zoom refuses the job's sign-in (nothing was applied by that request).
    """
    while True:
        try:
            return _row_apply(client, work, checkpoint)
        except RateLimited as exc:
            # Nothing was sent (our limiter) or Zoom refused it (429): safe to send again.
            if exc.retry_after <= SHORT_WAIT_SECONDS and time.monotonic() + exc.retry_after < deadline:
                time.sleep(exc.retry_after)
                continue
            return Retry(after=exc.retry_after, message=exc.message, reconcile=work.reconcile, rate_limited=True)
        except Unauthorized as exc:
            raise PauseJob(exc.message) from None
        except OutcomeUnknown as exc:
            if work.attempts >= MAX_ATTEMPTS:
                return Applied(
                    state=RowState.FAILED,
                    result=Outcome.FAILED,
                    zoom_id=work.zoom_id,
                    status=exc.status,
                    message=exc.message,
                    unknown=True,
                )
            return Retry(after=backoff_seconds(work.attempts), message=exc.message, reconcile=True)
        except Unavailable as exc:
            if work.attempts >= MAX_ATTEMPTS:
                return Applied(
                    state=RowState.FAILED,
                    result=Outcome.FAILED,
                    zoom_id=work.zoom_id,
                    status=exc.status,
                    message=exc.message,
                    # A failed read while reconciling leaves the earlier attempt's fate open.
                    unknown=work.reconcile,
                    audited=work.reconcile,
                )
            return Retry(after=backoff_seconds(work.attempts), message=exc.message, reconcile=work.reconcile)
        except ZoomError as exc:
            # Zoom refused this row (400, 403, 404, 409 that is not a known user...): it fails, the job goes on.
            return Applied(
                state=RowState.FAILED,
                result=Outcome.FAILED,
                zoom_id=work.zoom_id,
                status=exc.status,
                message=exc.message,
            )


def _find(client: ZoomClient, email: str) -> ZoomUser | None:
    """The user signing in with `email`, with the whole profile, or None."""
    try:
        found = client.find_user_by_email(email)
    except Invalid:
        # Zoom answers 400 to `userName eq` for an invited (pending) user: not someone we can update.
        return None
    if found is None or not found.id:
        return None
    # A list answer leaves out part of the profile (Zoom's extension, some attributes): read it whole.
    try:
        return client.get_user(found.id)
    except NotFound:
        return None


def _user_of(client: ZoomClient, work: RowWork) -> ZoomUser | None:
    """The row's user in Zoom now: by id when the plan knew it, else by email; None when there is none."""
    if work.zoom_id:
        try:
            return client.get_user(work.zoom_id)
        except NotFound:
            return None
    return _find(client, work.email) if work.email else None


def _row_apply(client: ZoomClient, work: RowWork, checkpoint: Checkpoint) -> Applied:
    if work.action in (Action.ADD_TO_GROUP, Action.REMOVE_FROM_GROUP):
        return _membership_row(client, work)
    if work.planned == Outcome.CREATE:
        return _create(client, work, checkpoint)
    if work.planned == Outcome.UPDATE:
        return _update(client, work, checkpoint, planned=Outcome.UPDATE)
    if work.planned in (Outcome.DEACTIVATE, Outcome.REACTIVATE):
        return _set_active(client, work, checkpoint, active=work.planned == Outcome.REACTIVATE)
    if work.planned == Outcome.DELETE:
        return _delete(client, work, checkpoint)
    # Unchanged, blocked and error rows are never claimed; a row planned otherwise is a bug to see.
    raise ValueError(f"row {work.id} has no change to apply (planned {work.planned!r})")


def _membership_row(client: ZoomClient, work: RowWork) -> Applied:
    # The membership itself goes out with its group's other changes; here we only need the user's id.
    zoom_id = work.zoom_id
    if not zoom_id:
        user = _find(client, work.email)
        if user is None or not user.id:
            raise NotFound(f"No Zoom user signs in with {work.email}.")
        zoom_id = user.id
    return Applied(state=RowState.DONE, result=Outcome.UPDATE, zoom_id=zoom_id, audited=False)


def _create(client: ZoomClient, work: RowWork, checkpoint: Checkpoint) -> Applied:
    if work.reconcile:
        existing = _find(client, work.email)
        if existing is not None:
            # Our earlier create reached Zoom (or someone else made the user meanwhile): never twice.
            return _converge(client, work, checkpoint, existing, created=True)
    try:
        user = client.create_user(user_payload_build(work.email, work.after))
    except Conflict:
        existing = _find(client, work.email)
        if existing is None:
            raise
        return _converge(client, work, checkpoint, existing, created=False)
    changed = {name: ["", value] for name, value in work.after.items() if value not in (None, "")}
    return Applied(
        state=RowState.DONE,
        result=Outcome.CREATE,
        zoom_id=user.id or "",
        before={},
        changed=changed,
        status=201,
        message="Created.",
    )


def _converge(
    client: ZoomClient, work: RowWork, checkpoint: Checkpoint, existing: ZoomUser, *, created: bool
) -> Applied:
    """Bring an existing user to the row's wanted values (the create that met a user becomes an update)."""
    zoom_id = existing.id or ""
    current = user_values(existing)
    diff = values_diff(current, work.after)
    if created:
        # Reconciled: the user is there because of this row's earlier create.
        before: dict[str, Any] = work.before if work.before is not None else {}
        if diff:
            _send_diff(client, zoom_id, work.email, diff, current)
        changed = {name: ["", value] for name, value in work.after.items() if value not in (None, "")}
        return Applied(
            state=RowState.DONE,
            result=Outcome.CREATE,
            zoom_id=zoom_id,
            before=before,
            changed=changed,
            status=201,
            message="Created (confirmed with Zoom after an unanswered request).",
        )
    before = work.before if work.before is not None else {name: current.get(name, "") for name in work.after}
    checkpoint.save_before(work, before, zoom_id)
    if not diff:
        return Applied(
            state=RowState.DONE,
            result=Outcome.UNCHANGED,
            zoom_id=zoom_id,
            before=before,
            status=200,
            message="The user already exists with these values.",
            audited=False,
        )
    _send_diff(client, zoom_id, work.email, diff, current)
    return Applied(
        state=RowState.DONE,
        result=Outcome.UPDATE,
        zoom_id=zoom_id,
        before=before,
        changed=diff,
        status=200,
        message="The user already existed; updated instead of created.",
    )


def _send_diff(
    client: ZoomClient, zoom_id: str, email: str, diff: dict[str, list[Any]], current: dict[str, Any]
) -> None:
    wanted = {name: pair[1] for name, pair in diff.items()}
    client.update_user(zoom_id, user_payload_build(email, wanted, current=current))


def _update(client: ZoomClient, work: RowWork, checkpoint: Checkpoint, *, planned: str) -> Applied:
    user = _user_of(client, work)
    if user is None or not user.id:
        if work.action == Action.UPSERT:
            # Gone (or never there) since the plan: an upsert creates it.
            return _create(client, work, checkpoint)
        raise NotFound(f"No Zoom user signs in with {work.email}.")
    current = user_values(user)
    # After a crash the first owner's reading is the truth about "before"; ours may show the change.
    before = work.before if work.before is not None else {name: current.get(name, "") for name in work.after}
    checkpoint.save_before(work, before, user.id)
    diff = values_diff(current, work.after)
    if not diff:
        applied_earlier = work.reconcile and work.before is not None and bool(values_diff(work.before, work.after))
        return Applied(
            state=RowState.DONE,
            result=Outcome.UPDATE if applied_earlier else Outcome.UNCHANGED,
            zoom_id=user.id,
            before=before,
            changed=values_diff(before, work.after) if applied_earlier else {},
            status=200,
            message="Updated (confirmed with Zoom after an unanswered request)."
            if applied_earlier
            else "Already in the wanted state.",
            audited=applied_earlier,
        )
    _send_diff(client, user.id, work.email, diff, current)
    return Applied(
        state=RowState.DONE,
        result=planned,
        zoom_id=user.id,
        before=before,
        changed=values_diff(before, work.after),
        status=200,
        message="Updated.",
    )


def _set_active(client: ZoomClient, work: RowWork, checkpoint: Checkpoint, *, active: bool) -> Applied:
    result = Outcome.REACTIVATE if active else Outcome.DEACTIVATE
    zoom_id = work.zoom_id
    if work.reconcile or not zoom_id:
        user = _user_of(client, work)
        if user is None or not user.id:
            raise NotFound(f"No Zoom user signs in with {work.email}.")
        zoom_id = user.id
        if bool(user.active) == active:
            # Already so: our earlier request landed (reconcile), or someone did it meanwhile.
            return Applied(
                state=RowState.DONE,
                result=result,
                zoom_id=zoom_id,
                before=work.before or {"active": not active},
                changed={"active": [not active, active]},
                status=200,
                message="Confirmed with Zoom." if work.reconcile else "Already in the wanted state.",
                audited=work.reconcile,
            )
    before = {"active": not active}
    checkpoint.save_before(work, before, zoom_id)
    client.set_user_active(zoom_id, active)
    return Applied(
        state=RowState.DONE,
        result=result,
        zoom_id=zoom_id,
        before=before,
        changed={"active": [not active, active]},
        status=200,
        message="Reactivated." if active else "Deactivated.",
    )


def _delete(client: ZoomClient, work: RowWork, checkpoint: Checkpoint) -> Applied:
    user = _user_of(client, work)
    if user is None or not user.id:
        if work.reconcile:
            return Applied(
                state=RowState.DONE,
                result=Outcome.DELETE,
                zoom_id=work.zoom_id,
                before=work.before,
                status=204,
                message="Deleted (confirmed with Zoom after an unanswered request).",
            )
        return Applied(
            state=RowState.DONE,
            result=Outcome.UNCHANGED,
            zoom_id=work.zoom_id,
            status=404,
            message="The user was already gone from Zoom.",
            audited=False,
        )
    # Everything a revert would need to recreate the user.
    before = work.before if work.before is not None else {**user_values(user), "email": user.email}
    checkpoint.save_before(work, before, user.id)
    client.delete_user(user.id)
    return Applied(
        state=RowState.DONE,
        result=Outcome.DELETE,
        zoom_id=user.id,
        before=before,
        changed={"active": [before.get("active", True), None]},
        status=204,
        message="Deleted.",
    )


# ---------------------------------------------------------------------------------------------
# Claiming, storing, releasing


def _claimable(now: datetime) -> Q:
    return (Q(state=RowState.PENDING) | Q(state=RowState.CLAIMED, lease_expires__lt=now)) & (
        Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    )


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=float(settings.IMPORTS_LEASE_SECONDS))


def rows_claim(*, change_set_id: int, owner: str, limit: int) -> list[ChangeRow]:
    """Claim up to `limit` rows of a running job for `owner`: the only way a row gets applied.

    Rows whose lease expired (their worker died) come back with `reconcile` set. See the module
    docstring for why two claimers can never both get a row.
    """
    if limit <= 0:
        return []
    now = timezone.now()
    with transaction.atomic():
        candidates: QuerySet[ChangeRow] = ChangeRow.objects.filter(_claimable(now), change_set_id=change_set_id)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.order_by("line").values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # Re-checks the claim condition: on SQLite (no row locks) the second of two claimers matches nothing.
        ChangeRow.objects.filter(_claimable(now), pk__in=ids).update(
            reconcile=Case(When(state=RowState.CLAIMED, then=Value(True)), default=F("reconcile")),
            state=RowState.CLAIMED,
            lease_owner=owner,
            lease_expires=_lease_until(now),
            attempts=F("attempts") + 1,
            retry_at=None,
        )
    return list(ChangeRow.objects.filter(pk__in=ids, lease_owner=owner, state=RowState.CLAIMED).order_by("line"))


def leases_renew(*, owner: str) -> None:
    """Extend the leases of every row and group change `owner` holds (the chunk is alive)."""
    until = _lease_until(timezone.now())
    ChangeRow.objects.filter(lease_owner=owner, state=RowState.CLAIMED).update(lease_expires=until)
    GroupChange.objects.filter(lease_owner=owner, state=RowState.CLAIMED).update(lease_expires=until)


def row_store(*, change_set: ChangeSet, work: RowWork, owner: str, applied: Applied) -> bool:
    """Store a row's outcome and its audit event together, if `owner` still holds the row.

    False when the lease was lost (another chunk took the row over and reconciles it): then
    nothing is written, so the row's ledger and the audit log never disagree.
    """
    now = timezone.now()
    with transaction.atomic():
        stored = ChangeRow.objects.filter(pk=work.id, lease_owner=owner, state=RowState.CLAIMED).update(
            state=applied.state,
            result=applied.result,
            zoom_id=applied.zoom_id,
            before=applied.before,
            changed=applied.changed,
            zoom_status=applied.status,
            message=applied.message[:2000],
            applied_at=now,
            lease_owner="",
            lease_expires=None,
            reconcile=applied.unknown,
        )
        if not stored:
            logger.warning("Row %s: lease lost before its outcome was stored; the new owner reconciles it", work.id)
            return False
        if applied.audited:
            audit_row_outcome(change_set, work, applied)
        ChangeSet.objects.filter(pk=change_set.pk).update(progress_at=now)
        if applied.state == RowState.FAILED:
            GroupChange.objects.filter(row_id=work.id, state=RowState.PENDING).update(
                state=RowState.SKIPPED, message="Not sent: the user's own change failed."
            )
    return True


def row_release(*, row_id: int, owner: str, retry: Retry) -> None:
    """Give a claimed row back to the queue, to be tried after `retry.after` seconds."""
    ChangeRow.objects.filter(pk=row_id, lease_owner=owner, state=RowState.CLAIMED).update(
        state=RowState.PENDING,
        lease_owner="",
        lease_expires=None,
        retry_at=timezone.now() + timedelta(seconds=retry.after),
        reconcile=retry.reconcile,
        message=retry.message[:2000],
        # A rate-limit wait is not a failed attempt: nothing was sent.
        attempts=F("attempts") - 1 if retry.rate_limited else F("attempts"),
    )


def job_pause(*, change_set_id: int, message: str, for_signin: bool) -> bool:
    """Pause a running job with a sentence for the admin; True if it was running."""
    return bool(
        ChangeSet.objects.filter(pk=change_set_id, status=JobStatus.RUNNING).update(
            status=JobStatus.PAUSED, status_message=message, paused_for_signin=for_signin
        )
    )


def job_finish_if_done(change_set_id: int) -> bool:
    """Mark a running job finished when no row or group change is left to do; True if it just finished."""
    open_states = (RowState.PENDING, RowState.CLAIMED)
    if ChangeRow.objects.filter(change_set_id=change_set_id, state__in=open_states).exists():
        return False
    if GroupChange.objects.filter(change_set_id=change_set_id, state__in=open_states).exists():
        return False
    now = timezone.now()
    return bool(
        ChangeSet.objects.filter(pk=change_set_id, status=JobStatus.RUNNING).update(
            status=JobStatus.FINISHED, finished_at=now, waiting_until=None, status_message=""
        )
    )


# ---------------------------------------------------------------------------------------------
# One chunk of work


@dataclass
class ChunkResult:
    """What a chunk did and what the task should do next.

    `again_in`: seconds until the job has claimable work again (None: nothing for this task to
    come back for: the job ended, paused, or its remaining rows are held by other live workers).
    """

    applied: int = 0
    failed: int = 0
    again_in: float | None = None


class _Pool:
    """Threads that apply rows; each closes its own database connection when it ends."""

    def __init__(self, client: ZoomClient, checkpoint: Checkpoint, size: int, deadline: float) -> None:
        self.inbox: queue.Queue[RowWork | None] = queue.Queue()
        self.outbox: queue.Queue[tuple[RowWork, Applied | Retry | PauseJob | BaseException]] = queue.Queue()
        self._client = client
        self._checkpoint = checkpoint
        self._deadline = deadline
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"imports-{i}") for i in range(size)]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        try:
            while (work := self.inbox.get()) is not None:
                try:
                    outcome: Applied | Retry | PauseJob | BaseException = row_attempt(
                        self._client, work, self._checkpoint, deadline=self._deadline
                    )
                except PauseJob as exc:
                    outcome = exc
                except Exception as exc:  # a bug must not leave the row claimed forever in this chunk
                    logger.exception("Row %s: unexpected error while applying", work.id)
                    outcome = exc
                self.outbox.put((work, outcome))
        finally:
            connections.close_all()

    def close(self) -> None:
        for _ in self._threads:
            self.inbox.put(None)
        for thread in self._threads:
            thread.join()


def job_work(change_set_id: int, *, seconds: float | None = None, concurrency: int | None = None) -> ChunkResult:
    """Work on a running job for up to `seconds` (default `IMPORTS_CHUNK_SECONDS`): one chunk.

    Claims rows in small batches to keep `concurrency` requests in flight, stores each outcome as
    it comes, renews its leases, then sends the group memberships of finished rows. Safe to run
    in any number of processes at once.
    """
    seconds = float(settings.IMPORTS_CHUNK_SECONDS) if seconds is None else seconds
    concurrency = int(settings.IMPORTS_CONCURRENCY) if concurrency is None else concurrency
    change_set = ChangeSet.objects.select_related("account", "created_by").get(pk=change_set_id)
    result = ChunkResult()
    if change_set.status != JobStatus.RUNNING:
        return result
    acting_as = change_set.created_by
    if acting_as is None:
        job_pause(
            change_set_id=change_set_id,
            message="The admin who started this job disconnected their Zoom account. Resume it to continue as you.",
            for_signin=False,
        )
        return result
    try:
        client = zoom_client(account=change_set.account, acting_as=acting_as)
    except Unauthorized as exc:
        job_pause(change_set_id=change_set_id, message=_signin_message(acting_as, exc), for_signin=True)
        return result
    owner = f"{uuid.uuid4().hex[:12]}@{threading.get_native_id()}"
    deadline = time.monotonic() + seconds
    with client:
        _rows_phase(change_set, client, owner, concurrency, deadline, result)
        if result.again_in is None and _job_status(change_set_id) == JobStatus.RUNNING:
            _groups_phase(change_set, client, owner, deadline, result)
    if _job_status(change_set_id) != JobStatus.RUNNING:
        result.again_in = None
        return result
    if job_finish_if_done(change_set_id):
        result.again_in = None
        return result
    if result.again_in is None:
        result.again_in = _next_work_in(change_set_id)
    return result


def _job_status(change_set_id: int) -> str | None:
    return ChangeSet.objects.filter(pk=change_set_id).values_list("status", flat=True).first()


def _signin_message(acting_as: ZoomConnection, exc: ZoomError) -> str:
    return (
        f"Paused: Zoom no longer accepts the sign-in of {acting_as.zoom_email}. "
        f"The job continues by itself once {acting_as.zoom_email} signs in with Zoom again. ({exc.message})"
    )


def _rows_phase(
    change_set: ChangeSet, client: ZoomClient, owner: str, concurrency: int, deadline: float, result: ChunkResult
) -> None:
    checkpoint = Checkpoint(owner)
    pool = _Pool(client, checkpoint, concurrency, deadline)
    in_flight = 0
    stop = False
    renew_every = max(0.5, float(settings.IMPORTS_LEASE_SECONDS) / 3)
    renewed = time.monotonic()
    try:
        while True:
            if not stop and time.monotonic() < deadline and in_flight <= concurrency // 2:
                if _job_status(change_set.pk) != JobStatus.RUNNING:
                    stop = True
                else:
                    rows = rows_claim(change_set_id=change_set.pk, owner=owner, limit=concurrency - in_flight)
                    for row in rows:
                        pool.inbox.put(RowWork.of(row))
                    in_flight += len(rows)
                    if not rows and in_flight == 0:
                        break
            if in_flight == 0 and (stop or time.monotonic() >= deadline):
                break
            try:
                work, outcome = pool.outbox.get(timeout=min(renew_every, 1.0))
            except queue.Empty:
                work = None
            if time.monotonic() - renewed >= renew_every:
                leases_renew(owner=owner)
                renewed = time.monotonic()
            if work is None:
                continue
            in_flight -= 1
            if isinstance(outcome, Applied):
                if row_store(change_set=change_set, work=work, owner=owner, applied=outcome):
                    result.applied += outcome.state == RowState.DONE
                    result.failed += outcome.state == RowState.FAILED
            elif isinstance(outcome, Retry):
                row_release(row_id=work.id, owner=owner, retry=outcome)
                if outcome.rate_limited and outcome.after > SHORT_WAIT_SECONDS:
                    # The budget is spent for a while: stop claiming, let the task come back then.
                    stop = True
                    result.again_in = max(result.again_in or 0.0, outcome.after)
                    ChangeSet.objects.filter(pk=change_set.pk).update(
                        waiting_until=timezone.now() + timedelta(seconds=outcome.after)
                    )
            elif isinstance(outcome, PauseJob):
                row_release(
                    row_id=work.id,
                    owner=owner,
                    retry=Retry(after=0, message="", reconcile=work.reconcile, rate_limited=True),
                )
                assert change_set.created_by is not None
                job_pause(
                    change_set_id=change_set.pk,
                    message=_signin_message(change_set.created_by, Unauthorized(outcome.message)),
                    for_signin=True,
                )
                stop = True
            else:
                # An unexpected error: keep the row (reconcile first, it may have been sent) and back off.
                row_release(
                    row_id=work.id,
                    owner=owner,
                    retry=Retry(after=backoff_seconds(work.attempts), message="", reconcile=True),
                )
    finally:
        pool.close()
        # Rows still claimed by this chunk (none normally) go back for the next owner to reconcile.
        ChangeRow.objects.filter(lease_owner=owner, state=RowState.CLAIMED).update(
            state=RowState.PENDING, lease_owner="", lease_expires=None, reconcile=True
        )
    if result.applied or result.failed:
        waited = ChangeSet.objects.filter(pk=change_set.pk, waiting_until__lt=timezone.now())
        waited.update(waiting_until=None)


_AUDIT_ACTIONS: dict[str, AuditAction] = {
    Outcome.CREATE: AuditAction.USER_CREATE,
    Outcome.UPDATE: AuditAction.USER_UPDATE,
    Outcome.DEACTIVATE: AuditAction.USER_DEACTIVATE,
    Outcome.REACTIVATE: AuditAction.USER_REACTIVATE,
    Outcome.DELETE: AuditAction.USER_DELETE,
}


def audit_row_outcome(change_set: ChangeSet, work: RowWork, applied: Applied) -> None:
    """The audit event of one applied (or refused, or unknown) row, linked to the job and its line."""
    action = _AUDIT_ACTIONS.get(applied.result) or _AUDIT_ACTIONS.get(work.planned) or AuditAction.USER_UPDATE
    if applied.unknown:
        result, error = AuditResult.UNKNOWN, ZoomError(applied.message, status=applied.status)
    elif applied.state == RowState.FAILED:
        result, error = AuditResult.FAILURE, ZoomError(applied.message, status=applied.status)
    else:
        result, error = AuditResult.SUCCESS, None
    audit_record(
        account=change_set.account,
        actor=change_set.created_by,
        action=action,
        target_type=AuditTarget.USER,
        target_zoom_id=applied.zoom_id or work.zoom_id,
        target_label=work.email,
        changes=applied.changed,
        result=result,
        error=error,
        job_id=change_set.pk,
        job_row=work.line,
    )


def _next_work_in(change_set_id: int) -> float | None:
    """Seconds until the job has claimable work (0: now), or None when other live workers hold the rest."""
    now = timezone.now()
    if ChangeRow.objects.filter(_claimable(now), change_set_id=change_set_id).exists():
        return 0.0
    groups = GroupChange.objects.filter(change_set_id=change_set_id)
    if groups.filter(_group_claimable(now), _group_ready()).exists():
        return 0.0
    rows = ChangeRow.objects.filter(change_set_id=change_set_id)
    waits = [
        rows.filter(state=RowState.PENDING).aggregate(at=Min("retry_at"))["at"],
        groups.filter(state=RowState.PENDING).aggregate(at=Min("retry_at"))["at"],
    ]
    future: list[datetime] = [at for at in waits if at is not None]
    if future:
        return max(0.0, (min(future) - now).total_seconds())
    return None


# ---------------------------------------------------------------------------------------------
# Group memberships: gathered per group


def _group_claimable(now: datetime) -> Q:
    return (Q(state=RowState.PENDING) | Q(state=RowState.CLAIMED, lease_expires__lt=now)) & (
        Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    )


def _group_ready() -> Q:
    # The user's own change is stored. A row whose own change failed had its memberships skipped
    # then (row_store); a failed row here failed on another group, which must not hold this one back.
    return Q(row__state__in=(RowState.DONE, RowState.FAILED)) & ~Q(row__zoom_id="")


def _group_claim(*, change_set_id: int, owner: str) -> list[GroupChange]:
    """Claim the pending changes of one group and one kind (add or remove), as many as one PATCH may carry."""
    now = timezone.now()
    limit = GROUP_PATCH_MAX_CHARS // GROUP_MEMBER_CHARS
    with transaction.atomic():
        base: QuerySet[GroupChange] = GroupChange.objects.filter(
            _group_claimable(now), _group_ready(), change_set_id=change_set_id
        )
        first = base.order_by("group_name", "op", "id").values("group_name", "op").first()
        if first is None:
            return []
        candidates = base.filter(group_name=first["group_name"], op=first["op"])
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.order_by("id").values_list("pk", flat=True)[:limit])
        GroupChange.objects.filter(_group_claimable(now), pk__in=ids).update(
            state=RowState.CLAIMED, lease_owner=owner, lease_expires=_lease_until(now), attempts=F("attempts") + 1
        )
    return list(GroupChange.objects.filter(pk__in=ids, lease_owner=owner).select_related("row"))


def _groups_phase(change_set: ChangeSet, client: ZoomClient, owner: str, deadline: float, result: ChunkResult) -> None:
    group_ids: dict[str, str | None] = {}
    while time.monotonic() < deadline:
        if _job_status(change_set.pk) != JobStatus.RUNNING:
            return
        batch = _group_claim(change_set_id=change_set.pk, owner=owner)
        if not batch:
            return
        name = batch[0].group_name
        op = batch[0].op
        try:
            if name not in group_ids:
                group_ids[name] = _group_id(client, name, create=change_set.create_missing_groups and op == GroupOp.ADD)
            group_id = group_ids[name]
            if group_id is None:
                _groups_fail(batch, owner, f"Zoom has no group named “{name}”.", change_set)
                result.failed += len(batch)
                continue
            user_ids = [change.row.zoom_id for change in batch]
            if op == GroupOp.ADD:
                client.add_group_members(group_id, user_ids)
            else:
                client.remove_group_members(group_id, user_ids)
        except RateLimited as exc:
            _groups_release(batch, owner, exc.retry_after, exc.message, rate_limited=True)
            result.again_in = exc.retry_after
            return
        except Unauthorized as exc:
            _groups_release(batch, owner, 0, "", rate_limited=True)
            assert change_set.created_by is not None
            job_pause(change_set_id=change_set.pk, message=_signin_message(change_set.created_by, exc), for_signin=True)
            return
        except (Unavailable, OutcomeUnknown) as exc:
            # Adding a member twice or removing one who left changes nothing: a repeat is safe.
            attempts = max(change.attempts for change in batch)
            if attempts >= MAX_ATTEMPTS:
                _groups_fail(batch, owner, exc.message, change_set)
                result.failed += len(batch)
            else:
                _groups_release(batch, owner, backoff_seconds(attempts), exc.message, rate_limited=False)
            continue
        except ZoomError as exc:
            _groups_fail(batch, owner, exc.message, change_set)
            result.failed += len(batch)
            continue
        now = timezone.now()
        with transaction.atomic():
            GroupChange.objects.filter(pk__in=[c.pk for c in batch], lease_owner=owner).update(
                state=RowState.DONE,
                applied_at=now,
                lease_owner="",
                lease_expires=None,
                group_zoom_id=group_id,
                message="",
            )
            ChangeSet.objects.filter(pk=change_set.pk).update(progress_at=now)
            audit_group_outcome(change_set, batch, group_id, op)
        result.applied += len(batch)


def _group_id(client: ZoomClient, name: str, *, create: bool) -> str | None:
    found = next(iter(client.iter_groups(filter=filters.eq("displayName", name))), None)
    if found is not None and found.id:
        return found.id
    if not create:
        return None
    try:
        return client.create_group(name).id
    except Conflict:
        found = next(iter(client.iter_groups(filter=filters.eq("displayName", name))), None)
        return found.id if found is not None else None


def _groups_release(
    batch: Iterable[GroupChange], owner: str, after: float, message: str, *, rate_limited: bool
) -> None:
    GroupChange.objects.filter(pk__in=[c.pk for c in batch], lease_owner=owner).update(
        state=RowState.PENDING,
        lease_owner="",
        lease_expires=None,
        retry_at=timezone.now() + timedelta(seconds=after),
        message=message[:2000],
        attempts=F("attempts") - 1 if rate_limited else F("attempts"),
    )


def _groups_fail(batch: list[GroupChange], owner: str, message: str, change_set: ChangeSet) -> None:
    """Fail group changes, and their rows: the row's wanted state (user in that group) was not reached."""
    GroupChange.objects.filter(pk__in=[c.pk for c in batch], lease_owner=owner).update(
        state=RowState.FAILED, lease_owner="", lease_expires=None, message=message[:2000]
    )
    verb = "added to" if batch[0].op == GroupOp.ADD else "removed from"
    note = f" Not {verb} group “{batch[0].group_name}”: {message}"
    for change in batch:
        ChangeRow.objects.filter(pk=change.row_id).update(
            state=RowState.FAILED, message=Concat(F("message"), Value(note), output_field=TextField())
        )
    ChangeSet.objects.filter(pk=change_set.pk).update(progress_at=timezone.now())


def audit_group_outcome(change_set: ChangeSet, batch: list[GroupChange], group_id: str, op: str) -> None:
    """The audit events of one membership PATCH: one per member, linked to the job and the member's line."""
    adding = op == GroupOp.ADD
    name = batch[0].group_name
    audit_record_many(
        account=change_set.account,
        actor=change_set.created_by,
        job_id=change_set.pk,
        entries=[
            AuditEntry(
                action=AuditAction.GROUP_ADD_MEMBERS if adding else AuditAction.GROUP_REMOVE_MEMBERS,
                target_type=AuditTarget.GROUP,
                target_zoom_id=group_id,
                target_label=name,
                changes={"members": [None, change.row.email] if adding else [change.row.email, None]},
                result=AuditResult.SUCCESS,
                job_row=change.row.line,
            )
            for change in batch
        ],
    )
