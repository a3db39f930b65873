"""Recording changes in the audit log, and reading it back (DESIGN invariant 5).

Every change the dashboard sends to Zoom leaves one `AuditEvent`, whether Zoom applied it, refused
it, or left its outcome unknown. Code that changes Zoom records it in one of three ways:

- `audit_change(...)`, a context manager around the Zoom call (pages and single changes)::

      with audit_change(account=account, actor=connection, action=AuditAction.USER_UPDATE,
                        target_type=AuditTarget.USER, target_zoom_id=user.id, target_label=user.email,
                        before={"title": "Engineer"}, after={"title": "Lead"}) as change:
          updated = client.update_user(user.id, payload)
          change.after({"title": updated.title})   # optional: what Zoom answered

  It writes a success event when the block ends, or a failure (`ZoomError`) / unknown-outcome
  (`OutcomeUnknown`, or any other exception) event and re-raises, with Zoom's status and message.
- `audit_record(...)` when the caller already knows the result (one insert);
- `audit_record_many(...)` for a bulk job's chunk of rows: one `bulk_create`, not one insert per row.

Write events outside any transaction the failure would roll back: a `ZoomError` propagating out
of `transaction.atomic()` would take the failure event with it. Zoom calls do not belong inside a
transaction anyway (they hold row locks for the length of an HTTP round trip).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditEvent, AuditResult, AuditSource, AuditTarget
from zoomadmin.spreadsheet import csv_cell
from zoomadmin.zoom.errors import OutcomeUnknown, ZoomError

# Events written per INSERT by audit_record_many: big enough that a 3,000-row job is a handful of
# statements, small enough to stay well inside PostgreSQL's and SQLite's parameter limits.
BULK_BATCH_SIZE = 500
INTERNAL_ERROR_MESSAGE = (
    "The change stopped on an internal error before zoomadmin could read Zoom's answer; "
    "check the target in Zoom before trying again."
)

# The person filter's value for changes zoomadmin made on its own (no admin's connection).
SYSTEM_PERSON = "system"

Changes = dict[str, list[Any]]


def _empty(value: Any) -> bool:
    return value is None or value == ""


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> Changes:
    """The fields that differ between two snapshots, as `{field: [before, after]}`.

    Fields are compared over the union of both mappings; a field missing on one side counts as
    empty, so a create (`before={}`) lists every field set and a delete (`after={}`) every field
    it had. Pass the same fields on both sides for an update, or fields left out of `after` show
    as cleared. `None` and `""` are the same "empty" (Zoom omits what the mirror stores as "").
    """
    changes: Changes = {}
    for name in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(name), after.get(name)
        if _empty(old) and _empty(new):
            continue
        if old != new:
            changes[name] = [old, new]
    return changes


def _result_for(error: BaseException | None) -> AuditResult:
    if error is None:
        return AuditResult.SUCCESS
    if isinstance(error, ZoomError) and not isinstance(error, OutcomeUnknown):
        return AuditResult.FAILURE
    return AuditResult.UNKNOWN


def _source_for(actor: ZoomConnection | None, job_id: int | None) -> AuditSource:
    if job_id is not None:
        return AuditSource.JOB
    return AuditSource.SYSTEM if actor is None else AuditSource.PAGE


def _event_build(
    *,
    account: ZoomAccount,
    actor: ZoomConnection | None,
    action: AuditAction | str,
    target_type: AuditTarget | str,
    target_zoom_id: str,
    target_label: str,
    changes: Mapping[str, Any] | None,
    result: AuditResult | str | None,
    error: BaseException | None,
    job_id: int | None,
    job_row: int | None,
    source: AuditSource | str | None,
    created: datetime | None = None,
) -> AuditEvent:
    """An unsaved event, checked: the actor must belong to the account (an event never crosses accounts)."""
    if actor is not None and actor.account_id != account.pk:
        raise ValueError(f"Connection {actor.pk} belongs to another Zoom account than {account.zoom_id}.")
    if error is None:
        zoom_status, zoom_message = None, ""
    elif isinstance(error, ZoomError):
        zoom_status, zoom_message = error.status, error.message
    else:
        zoom_status, zoom_message = None, INTERNAL_ERROR_MESSAGE
    return AuditEvent(
        account=account,
        account_zoom_id=account.zoom_id,
        created=created or timezone.now(),
        # user_id and the connection's own fields: no query for the person row.
        person_id=actor.user_id if actor is not None else None,
        person_name=(actor.zoom_display_name or actor.zoom_email)[:254] if actor is not None else "",
        zoom_user_id=actor.zoom_user_id if actor is not None else "",
        zoom_email=actor.zoom_email if actor is not None else "",
        source=source or _source_for(actor, job_id),
        action=action,
        target_type=target_type,
        target_zoom_id=target_zoom_id[:128],
        target_label=target_label[:500],
        changes=dict(changes or {}),
        result=result or _result_for(error),
        zoom_status=zoom_status,
        zoom_message=zoom_message,
        job_id=job_id,
        job_row=job_row,
    )


def audit_record(
    *,
    account: ZoomAccount,
    actor: ZoomConnection | None,
    action: AuditAction | str,
    target_type: AuditTarget | str,
    target_zoom_id: str,
    target_label: str,
    changes: Mapping[str, Any] | None = None,
    result: AuditResult | str | None = None,
    error: BaseException | None = None,
    job_id: int | None = None,
    job_row: int | None = None,
    source: AuditSource | str | None = None,
) -> AuditEvent:
    """Write one audit event and return it.

    `actor` is the connection the change was made with (None for zoomadmin's own work). `changes`
    is `{field: [before, after]}` (see `changes_between`). `result` defaults from `error`: none →
    success, `OutcomeUnknown` (or a non-Zoom exception) → unknown, any other `ZoomError` → failure;
    Zoom's status and its sentence for the admin are stored from the error. `source` defaults to
    job when `job_id` is given, page when there is an actor, else system.
    """
    event = _event_build(
        account=account,
        actor=actor,
        action=action,
        target_type=target_type,
        target_zoom_id=target_zoom_id,
        target_label=target_label,
        changes=changes,
        result=result,
        error=error,
        job_id=job_id,
        job_row=job_row,
        source=source,
    )
    event.save()
    return event


@dataclass
class AuditEntry:
    """One change of a bulk job's chunk, for `audit_record_many` (the account, actor and job are shared)."""

    action: AuditAction | str
    target_type: AuditTarget | str
    target_zoom_id: str
    target_label: str
    changes: Mapping[str, Any] | None = None
    result: AuditResult | str | None = None
    error: BaseException | None = None
    job_row: int | None = None


def audit_record_many(
    *,
    account: ZoomAccount,
    actor: ZoomConnection | None,
    entries: Iterable[AuditEntry],
    job_id: int | None = None,
    source: AuditSource | str | None = None,
) -> list[AuditEvent]:
    """Write many events in a few INSERTs (`BULK_BATCH_SIZE` per statement) and return them.

    For the bulk job engine: record a chunk's outcomes once the chunk is applied, in the same
    transaction that stores the rows' outcomes, so a crash cannot leave one without the other.
    Events of one call share a timestamp's order: they are created in the order given.
    """
    now = timezone.now()
    events = [
        _event_build(
            account=account,
            actor=actor,
            action=entry.action,
            target_type=entry.target_type,
            target_zoom_id=entry.target_zoom_id,
            target_label=entry.target_label,
            changes=entry.changes,
            result=entry.result,
            error=entry.error,
            job_id=job_id,
            job_row=entry.job_row,
            source=source,
            created=now,
        )
        for entry in entries
    ]
    return AuditEvent.objects.bulk_create(events, batch_size=BULK_BATCH_SIZE)


@dataclass
class AuditChange:
    """The change being made inside `audit_change`: update it as Zoom answers; `event` is set on exit."""

    target_zoom_id: str
    target_label: str
    before: Mapping[str, Any]
    intended: Mapping[str, Any]
    answered: Mapping[str, Any] | None = None
    changes: Mapping[str, Any] | None = None
    event: AuditEvent | None = field(default=None, init=False)

    def after(
        self, values: Mapping[str, Any], *, target_zoom_id: str | None = None, target_label: str | None = None
    ) -> None:
        """What Zoom answered (the target's fields after the change); a create also names its new id here."""
        self.answered = values
        if target_zoom_id is not None:
            self.target_zoom_id = target_zoom_id
        if target_label is not None:
            self.target_label = target_label

    def recorded_changes(self, *, succeeded: bool) -> Mapping[str, Any]:
        """Explicit `changes` if given; else before → Zoom's answer (on success) or → what was attempted."""
        if self.changes is not None:
            return self.changes
        after = self.answered if succeeded and self.answered is not None else self.intended
        return changes_between(self.before, after)


@contextmanager
def audit_change(
    *,
    account: ZoomAccount,
    actor: ZoomConnection | None,
    action: AuditAction | str,
    target_type: AuditTarget | str,
    target_zoom_id: str = "",
    target_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    job_id: int | None = None,
    job_row: int | None = None,
) -> Iterator[AuditChange]:
    """Make a change in Zoom inside the block and record exactly one event for it.

    `before` and `after` are the target's fields before and as intended (diffed with
    `changes_between`); `changes` overrides the diff (e.g. members added to a group). Inside the
    block, `change.after(values, target_zoom_id=…, target_label=…)` records what Zoom answered.

    On a normal exit a success event is written. When the block raises, the event is written
    with the attempted changes and the exception is re-raised unchanged: a `ZoomError` is a
    failure with Zoom's status and message, `OutcomeUnknown` and anything else an unknown outcome
    (the request may have reached Zoom before the error).
    """
    change = AuditChange(
        target_zoom_id=target_zoom_id,
        target_label=target_label,
        before=before or {},
        intended=after or {},
        changes=changes,
    )
    common: dict[str, Any] = {"account": account, "actor": actor, "action": action, "target_type": target_type}
    try:
        yield change
    except Exception as exc:
        change.event = audit_record(
            **common,
            target_zoom_id=change.target_zoom_id,
            target_label=change.target_label,
            changes=change.recorded_changes(succeeded=False),
            error=exc,
            job_id=job_id,
            job_row=job_row,
        )
        raise
    change.event = audit_record(
        **common,
        target_zoom_id=change.target_zoom_id,
        target_label=change.target_label,
        changes=change.recorded_changes(succeeded=True),
        job_id=job_id,
        job_row=job_row,
    )


def audit_for_target(
    account: ZoomAccount, target_type: AuditTarget | str, zoom_id: str, *, limit: int | None = 50
) -> QuerySet[AuditEvent]:
    """One user's or group's history in this account, newest first (for detail pages).

    The newest `limit` events, or all of them with `limit=None` (then still a query set to narrow).
    """
    events = AuditEvent.objects.filter(account=account, target_type=target_type, target_zoom_id=zoom_id).order_by(
        "-created", "-id"
    )
    return events[:limit] if limit is not None else events


# audit_people's skip scan: the next Zoom user id after the last one, then each person's latest name and email.
_PEOPLE_SQL = """
WITH RECURSIVE people(zid) AS (
    SELECT MIN(zoom_user_id) FROM audit_auditevent WHERE account_id = %s AND zoom_user_id > ''
    UNION ALL
    SELECT (SELECT MIN(zoom_user_id) FROM audit_auditevent WHERE account_id = %s AND zoom_user_id > people.zid)
    FROM people WHERE people.zid IS NOT NULL
)
SELECT
    people.zid,
    (SELECT e.person_name FROM audit_auditevent e WHERE e.account_id = %s AND e.zoom_user_id = people.zid
     ORDER BY e.created DESC, e.id DESC LIMIT 1),
    (SELECT e.zoom_email FROM audit_auditevent e WHERE e.account_id = %s AND e.zoom_user_id = people.zid
     ORDER BY e.created DESC, e.id DESC LIMIT 1)
FROM people WHERE people.zid IS NOT NULL
"""


def audit_people(account: ZoomAccount) -> list[tuple[str, str]]:
    """Who changed something in this account, as (Zoom user id, "Name (email)") by email, then zoomadmin itself.

    Within one account a Zoom identity belongs to one dashboard person, so the Zoom user id names
    the person, and keeps naming them after they disconnect; the name shown is from their latest
    event. One query: a recursive "skip scan" that jumps from one person to the next along the
    (account, zoom_user_id, created) index, so it costs a few index probes per person instead of
    reading every event of the account (a GROUP BY over a million events takes half a second).
    """
    with connection.cursor() as cursor:
        cursor.execute(_PEOPLE_SQL, [account.pk, account.pk, account.pk, account.pk])
        rows = cursor.fetchall()
    choices = []
    for zoom_user_id, name, email in sorted(rows, key=lambda row: (row[2], row[0])):
        choices.append((zoom_user_id, email if name in ("", email) else f"{name} ({email})"))
    choices.append((SYSTEM_PERSON, "zoomadmin itself"))
    return choices


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditFilters(TypedDict, total=False):
    """The log page's filters, as keywords of `audit_events`."""

    person: str
    action: str
    target: str
    result: str
    since: date
    until: date


def audit_events(
    *,
    account: ZoomAccount,
    person: str = "",
    action: str = "",
    target: str = "",
    result: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The account's events newest first, narrowed by the log page's filters (empty ones narrow nothing).

    `person` is a Zoom user id or `SYSTEM_PERSON`; `target` is a case-insensitive substring of
    the target's label or Zoom id (`%` and `_` match literally); `since` and `until` are whole
    days in the dashboard's time zone, both included.
    """
    events = AuditEvent.objects.filter(account=account).order_by("-created", "-id")
    if person == SYSTEM_PERSON:
        events = events.filter(zoom_user_id="")
    elif person:
        events = events.filter(zoom_user_id=person)
    if action:
        events = events.filter(action=action)
    if result:
        events = events.filter(result=result)
    if target:
        events = events.filter(Q(target_label__icontains=target) | Q(target_zoom_id__icontains=target))
    if since is not None:
        events = events.filter(created__gte=_local_midnight(since))
    if until is not None:
        events = events.filter(created__lt=_local_midnight(until + timedelta(days=1)))
    return events


CSV_HEADER = [
    "when",
    "person",
    "zoom_user_id",
    "zoom_email",
    "source",
    "action",
    "target_type",
    "target_zoom_id",
    "target",
    "changes",
    "result",
    "zoom_status",
    "zoom_message",
    "job_id",
    "job_row",
]
# Rows fetched per round trip while an export streams (a server-side cursor on PostgreSQL).
CSV_CHUNK_SIZE = 2000


def audit_csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    """The header, then one row per event (changes as JSON), every cell neutralised against formulas.

    Iterates in chunks without caching the query set, so exporting millions of events keeps memory flat.
    """
    yield CSV_HEADER
    for event in events.iterator(chunk_size=CSV_CHUNK_SIZE):
        yield [
            csv_cell(value)
            for value in (
                timezone.localtime(event.created).isoformat(),
                event.person_name,
                event.zoom_user_id,
                event.zoom_email,
                event.source,
                event.action,
                event.target_type,
                event.target_zoom_id,
                event.target_label,
                json.dumps(event.changes, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder),
                event.result,
                event.zoom_status,
                event.zoom_message,
                event.job_id,
                event.job_row,
            )
        ]
