"""The plan of a CSV file: every valid row diffed against the account's directory mirror.

`plan_rows` turns the intake's rows (`rows.intake_open`) into `RowSpec`s, looking users up in the
mirror by lowercased email a chunk of `PLAN_CHUNK_SIZE` rows at a time, so a 100,000-row file costs
a few hundred queries and holds one chunk in memory. `import_plan` stores the result as a change
set (nothing is sent to Zoom), `plan_summary` only counts it (`import_csv --plan-only`).

Outcomes (docs/bulk-changes.md lists them for admins):

- create / update (with which fields, before → after) / unchanged (already as wanted: not a failure);
- deactivate / reactivate / delete;
- blocked: Zoom would refuse it (Owners and Admins cannot be deactivated or deleted; a pending user
  cannot be activated or deactivated, and Zoom accepts but does not apply updates to them);
- error: the intake's row errors (with their line and sentence), users that are not there for an
  update or a deactivation, users already there for a create, unknown groups.

The mirror is as fresh as the last sync; the plan page says how fresh, and a never-synced mirror
refuses to plan at all. The job reads each user from Zoom again before changing it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.models import DirectoryGroup, DirectoryMembership, DirectoryUser, UserRole, UserStatus
from zoomadmin.imports.columns import Field
from zoomadmin.imports.csvfile import CsvRefused
from zoomadmin.imports.engine import MIRROR_COLUMNS, USER_FIELDS, values_diff
from zoomadmin.imports.models import Action, ChangeSet, GroupOp, JobStatus, Outcome, Source
from zoomadmin.imports.rows import GROUP_SEPARATOR, RowAction, RowError, RowIntent, intake_open
from zoomadmin.imports.services import RowSpec, changeset_create, job_cancel

# Rows looked up in the mirror per query.
PLAN_CHUNK_SIZE = 1000
_USER_COLUMNS = ("pk", "zoom_id", "email", "active", "status", "role", *MIRROR_COLUMNS.values())
NEVER_SYNCED = (
    "The directory of this account has never been synced, so there is nothing to compare the file with; "
    "sync the directory first (Users → Sync now), then upload the file again."
)
PENDING_UPDATE = (
    "This user has not accepted Zoom's invitation yet; Zoom accepts changes to pending users but does not apply them."
)
PENDING_ACTIVE = "This user has not accepted Zoom's invitation yet; Zoom cannot activate or deactivate them."


class PlanRefused(Exception):
    """The file cannot be planned as a whole; `message` says why, as a sentence for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PlanSummary:
    """What a plan came to: valid and invalid rows (line, sentence), outcomes, columns."""

    columns: list[str] = field(default_factory=list)
    unknown_columns: list[dict[str, Any]] = field(default_factory=list)
    valid: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_json(self, refused: str | None = None) -> dict[str, Any]:
        """The object `import_csv --plan-only --json` prints."""
        return {
            "refused": refused,
            "valid": self.valid,
            "invalid": [{"line": line, "message": message} for line, message in self.invalid],
            "unknown_columns": [column["name"] for column in self.unknown_columns],
            "outcomes": dict(self.outcomes),
        }


def mirror_check(account: ZoomAccount) -> None:
    """Refuse to plan against a mirror that was never filled by a complete sync."""
    # Read from the database: the caller's instance may predate a sync that just finished.
    synced = ZoomAccount.objects.filter(pk=account.pk).values_list("last_synced_at", flat=True).first()
    if synced is None:
        raise PlanRefused(NEVER_SYNCED)


def _mirror_values(user: DirectoryUser) -> dict[str, Any]:
    return {name: getattr(user, column) for name, column in MIRROR_COLUMNS.items()}


def _describe_diff(diff: Mapping[str, list[Any]]) -> str:
    parts = [
        f"{name.replace('_', ' ')}: “{before or '—'}” → “{after or '—'}”" for name, (before, after) in diff.items()
    ]
    return "; ".join(parts)


def _joined_key(parts: Iterable[str]) -> str:
    return GROUP_SEPARATOR.join(part.strip() for part in parts).casefold()


class _Groups:
    """The account's groups by case-folded name (an account has hundreds, not millions)."""

    def __init__(self, account: ZoomAccount) -> None:
        self.by_key = {
            name.casefold(): name
            for name in DirectoryGroup.objects.filter(account=account).values_list("display_name", flat=True)
        }

        # Names with the separator in them ("Support; Tier 2") reach us split; rejoined parts find them.
        self.joined = {
            _joined_key(name.split(GROUP_SEPARATOR)): name for name in self.by_key.values() if GROUP_SEPARATOR in name
        }

    def _rejoin(self, names: list[str]) -> list[str]:
        if not self.joined:
            return names
        out: list[str] = []
        i = 0
        while i < len(names):
            for j in range(len(names), i + 1, -1):
                known = self.joined.get(_joined_key(names[i:j]))
                if known is not None:
                    out.append(known)
                    i = j
                    break
            else:
                out.append(names[i])
                i += 1
        return out

    def resolve(self, names: Iterable[str], *, create_missing: bool) -> tuple[list[str], list[str]]:
        """(canonical names, unknown names); unknown names are kept as written when they will be created."""
        found: list[str] = []
        unknown: list[str] = []
        for name in self._rejoin(list(names)):
            known = self.by_key.get(name.casefold())
            if known is not None:
                found.append(known)
            elif create_missing:
                found.append(name)
            else:
                unknown.append(name)
        return found, unknown


def plan_rows(
    *,
    account: ZoomAccount,
    rows: Iterable[RowIntent | RowError],
    summary: PlanSummary,
    create_missing_groups: bool = False,
) -> Iterator[RowSpec]:
    """The `RowSpec` of every row, in file order, counting valid, invalid and outcomes into `summary`.

    Lazy: reads the mirror one chunk of rows at a time (one query for the users, one for their
    memberships), so memory does not grow with the file.
    """
    groups = _Groups(account)
    chunk: list[RowIntent | RowError] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= PLAN_CHUNK_SIZE:
            yield from _chunk_plan(account, chunk, groups, summary, create_missing_groups)
            chunk = []
    yield from _chunk_plan(account, chunk, groups, summary, create_missing_groups)


def _chunk_plan(
    account: ZoomAccount,
    chunk: list[RowIntent | RowError],
    groups: _Groups,
    summary: PlanSummary,
    create_missing_groups: bool,
) -> Iterator[RowSpec]:
    keys = {row.email_key for row in chunk if isinstance(row, RowIntent)}
    users: dict[str, DirectoryUser] = {}
    if keys:
        for user in DirectoryUser.objects.filter(account=account, email__in=keys).only(*_USER_COLUMNS[1:]):
            users[user.email] = user
    wants_groups = [
        users[row.email_key].pk for row in chunk if isinstance(row, RowIntent) and row.groups and row.email_key in users
    ]
    member_of: dict[int, set[str]] = {}
    if wants_groups:
        memberships = DirectoryMembership.objects.filter(account=account, user_id__in=wants_groups).values_list(
            "user_id", "group__display_name"
        )
        for user_id, name in memberships:
            member_of.setdefault(user_id, set()).add(name.casefold())
    for row in chunk:
        if isinstance(row, RowError):
            summary.invalid.append((row.line, row.message))
            spec = RowSpec(
                line=row.line,
                action=Action.UPSERT,
                email=row.email or "",
                planned=Outcome.ERROR,
                reason=row.message,
                cells=list(row.cells),
            )
        else:
            summary.valid += 1
            found = users.get(row.email_key)
            spec = _row_plan(
                row,
                found,
                groups=groups,
                member_of=member_of.get(found.pk, set()) if found is not None else set(),
                create_missing_groups=create_missing_groups,
            )
        summary.outcomes[spec.planned] += 1
        yield spec


def _row_plan(
    row: RowIntent,
    user: DirectoryUser | None,
    *,
    groups: _Groups,
    member_of: set[str],
    create_missing_groups: bool,
) -> RowSpec:
    spec = RowSpec(
        line=row.line,
        action=str(row.action),
        email=row.email,
        planned=Outcome.ERROR,
        zoom_id=user.zoom_id if user is not None else "",
        cells=list(row.cells),
    )

    def outcome(planned: str, reason: str = "") -> RowSpec:
        spec.planned = planned
        spec.reason = reason
        return spec

    if row.action is RowAction.DEACTIVATE:
        if user is None:
            return outcome(Outcome.ERROR, f"No Zoom user signs in with {row.email} in this account.")
        if user.status == UserStatus.PENDING:
            return outcome(Outcome.BLOCKED, PENDING_ACTIVE)
        if not user.active:
            return outcome(Outcome.UNCHANGED, "Already deactivated.")
        if user.role in (UserRole.OWNER, UserRole.ADMIN):
            return outcome(
                Outcome.BLOCKED,
                f"Zoom does not deactivate a user with the {user.role} role; "
                "change their role to Member in Zoom first.",
            )
        spec.planned_before = {"active": True}
        return outcome(Outcome.DEACTIVATE)
    if row.action is RowAction.REACTIVATE:
        if user is None:
            return outcome(Outcome.ERROR, f"No Zoom user signs in with {row.email} in this account.")
        if user.status == UserStatus.PENDING:
            return outcome(Outcome.BLOCKED, PENDING_ACTIVE)
        if user.active:
            return outcome(Outcome.UNCHANGED, "Already active.")
        spec.planned_before = {"active": False}
        return outcome(Outcome.REACTIVATE)
    if row.action is RowAction.DELETE:
        if user is None:
            return outcome(Outcome.UNCHANGED, f"No Zoom user signs in with {row.email}: nothing to delete.")
        if user.role in (UserRole.OWNER, UserRole.ADMIN):
            return outcome(
                Outcome.BLOCKED,
                f"A user with the {user.role} role cannot be deleted here; change their role to Member in Zoom first.",
            )
        spec.planned_before = {**_mirror_values(user), "active": user.active}
        return outcome(Outcome.DELETE)
    return _setting_plan(
        row, user, spec, outcome, groups=groups, member_of=member_of, create_missing=create_missing_groups
    )


def _setting_plan(
    row: RowIntent,
    user: DirectoryUser | None,
    spec: RowSpec,
    outcome: Callable[..., RowSpec],
    *,
    groups: _Groups,
    member_of: set[str],
    create_missing: bool,
) -> RowSpec:
    wanted = {name: value for name, value in row.fields.items() if name in USER_FIELDS}
    notes: list[str] = []
    if row.fields.get(Field.PHONE.value):
        notes.append("Phone numbers are not changed by imports; the phone column is not used.")
    names, unknown = groups.resolve(row.groups, create_missing=create_missing)
    if unknown:
        listed = ", ".join(f"“{name}”" for name in unknown)
        return outcome(
            Outcome.ERROR,
            f"No group named {listed} in this account; create it first, or choose to create missing groups.",
        )
    spec.after = wanted
    if user is None:
        if row.action is RowAction.UPDATE:
            return outcome(
                Outcome.ERROR,
                f"No Zoom user signs in with {row.email}; to create them, use the action create or upsert.",
            )
        refusal = row.create_refusal()
        if refusal:
            return outcome(Outcome.ERROR, refusal)
        spec.groups = [(GroupOp.ADD, name) for name in names]
        return outcome(Outcome.CREATE, " ".join(notes))
    if row.action is RowAction.CREATE:
        return outcome(
            Outcome.ERROR, f"{row.email} already has a Zoom user in this account; to change it, use update or upsert."
        )
    current = _mirror_values(user)
    diff = values_diff(current, wanted)
    joins = [name for name in names if name.casefold() not in member_of]
    spec.groups = [(GroupOp.ADD, name) for name in joins]
    spec.planned_before = {name: current.get(name, "") for name in wanted}
    if (diff or joins) and user.status == UserStatus.PENDING:
        spec.groups = []
        return outcome(Outcome.BLOCKED, PENDING_UPDATE)
    if row.active is True and not user.active and not diff and not joins:
        spec.planned_before = {"active": False}
        spec.action = Action.REACTIVATE
        return outcome(Outcome.REACTIVATE, "Active is true and the user is deactivated.")
    if not diff and not joins:
        return outcome(Outcome.UNCHANGED, " ".join(["Already as the file says.", *notes]))
    if row.active is True and not user.active:
        notes.append("The user stays deactivated: reactivate them with a separate row or bulk action.")
    said = [_describe_diff(diff)] if diff else []
    if joins:
        said.append("joins " + ", ".join(f"“{name}”" for name in joins))
    if not diff:
        # Only memberships change: the row needs no profile write, only the user's id.
        spec.action = Action.ADD_TO_GROUP
    return outcome(Outcome.UPDATE, "; ".join(said) + (" " + " ".join(notes) if notes else ""))


# ---------------------------------------------------------------------------------------------
# Planning a file, and the stored upload (for re-planning with mapped columns)


def _upload_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def upload_path(change_set_id: int) -> Path:
    """Where the uploaded file of a planned change set is kept until it starts or is discarded."""
    return _upload_dir() / f"{change_set_id}.csv"


def _sidecar_path(change_set_id: int) -> Path:
    return _upload_dir() / f"{change_set_id}.json"


def upload_options(change_set_id: int) -> dict[str, Any] | None:
    """The stored upload's options (column overrides, unknown columns), or None when it is gone."""
    path = _sidecar_path(change_set_id)
    if not path.exists() or not upload_path(change_set_id).exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def upload_forget(change_set_id: int) -> None:
    """Remove a change set's stored upload (it started, or was discarded or re-planned)."""
    upload_path(change_set_id).unlink(missing_ok=True)
    _sidecar_path(change_set_id).unlink(missing_ok=True)


# A plan's kept file is removed after this long even while the plan waits (it can still be started,
# but its columns can no longer be mapped; the admin uploads the file again for that).
UPLOAD_KEEP_SECONDS = 24 * 3600


def uploads_sweep(*, now: float | None = None) -> int:
    """Remove kept uploads whose plan started, ended or no longer exists, or that are over a day old.

    Starting and discarding remove the file at once; this catches plans abandoned in the planned state
    and anything a crash left behind. Returns how many files it removed.
    """
    directory = _upload_dir()
    if not directory.is_dir():
        return 0
    now = time.time() if now is None else now
    kept = {path.stem: path for path in directory.glob("*.csv") if path.stem.isdigit()}
    waiting = set(
        ChangeSet.objects.filter(pk__in=[int(stem) for stem in kept], status=JobStatus.PLANNED).values_list(
            "pk", flat=True
        )
    )
    removed = 0
    for stem, path in kept.items():
        try:
            old = now - path.stat().st_mtime > UPLOAD_KEEP_SECONDS
        except FileNotFoundError:
            continue
        if int(stem) not in waiting or old:
            upload_forget(int(stem))
            removed += 1
    return removed


def _overrides_of(raw: Mapping[str, str | None]) -> dict[int, Field | None]:
    return {int(index): (Field(value) if value else None) for index, value in raw.items()}


def plan_summary(
    *,
    account: ZoomAccount,
    binary: IO[bytes],
    overrides: Mapping[int, Field | None] | None = None,
    create_missing_groups: bool = False,
) -> PlanSummary:
    """Plan a file without storing anything: the counts `import_csv --plan-only` prints.

    Raises `PlanRefused` (never-synced mirror, or the intake's `CsvRefused` sentence).
    """
    mirror_check(account)
    try:
        intake = intake_open(binary, overrides=overrides)
        summary = _summary_start(intake.header)
        for _ in plan_rows(
            account=account, rows=intake.rows, summary=summary, create_missing_groups=create_missing_groups
        ):
            pass
    except CsvRefused as exc:
        raise PlanRefused(exc.message) from None
    return summary


def _summary_start(header: Any) -> PlanSummary:
    return PlanSummary(
        columns=[column.name for column in header.columns],
        unknown_columns=[
            {"index": u.column.index, "name": u.column.name, "letter": u.column.letter, "reason": u.reason}
            for u in header.unknown
        ],
    )


def active_users_count(account: ZoomAccount) -> int:
    """The account's active users in the mirror: the base of the safeguard's share."""
    return DirectoryUser.objects.filter(account=account, active=True).count()


def import_plan(
    *,
    account: ZoomAccount,
    connection: ZoomConnection,
    binary: IO[bytes],
    file_name: str,
    overrides: Mapping[int, Field | None] | None = None,
    create_missing_groups: bool = False,
    keep_upload: bool = True,
) -> ChangeSet:
    """Plan an uploaded CSV file against the mirror and store it as a change set (nothing goes to Zoom).

    With `keep_upload` the file is kept (under VAR_DIR/imports/) so unknown columns can be mapped and
    the file planned again; it is removed when the job starts or is discarded. Raises `PlanRefused`
    with the sentence for the admin; nothing is stored then.
    """
    mirror_check(account)
    try:
        intake = intake_open(binary, overrides=overrides)
        summary = _summary_start(intake.header)
        change_set = changeset_create(
            account=account,
            connection=connection,
            source=Source.CSV,
            rows=plan_rows(
                account=account, rows=intake.rows, summary=summary, create_missing_groups=create_missing_groups
            ),
            active_users=active_users_count(account),
            file_name=file_name,
            columns=summary.columns,
            unknown_columns=[column["name"] or f"column {column['letter']}" for column in summary.unknown_columns],
            create_missing_groups=create_missing_groups,
        )
    except CsvRefused as exc:
        raise PlanRefused(exc.message) from None
    if keep_upload:
        _upload_dir().mkdir(parents=True, exist_ok=True)
        binary.seek(0)
        with upload_path(change_set.pk).open("wb") as out:
            shutil.copyfileobj(binary, out)
        _sidecar_path(change_set.pk).write_text(
            json.dumps(
                {
                    "overrides": {
                        str(index): (value.value if value else None) for index, value in (overrides or {}).items()
                    },
                    "unknown": summary.unknown_columns,
                    "create_missing_groups": create_missing_groups,
                }
            )
        )
    return change_set


def import_replan(
    *, change_set: ChangeSet, connection: ZoomConnection, mapping: Mapping[int, Field | None]
) -> ChangeSet:
    """Plan a change set's stored file again with unknown columns mapped (or ignored); the old plan is discarded.

    Raises `PlanRefused` when the file is no longer kept (the job started or was discarded) or the
    mapping makes it unusable (two columns for one field).
    """
    options = upload_options(change_set.pk)
    if options is None or change_set.status != JobStatus.PLANNED:
        raise PlanRefused("This plan's file is no longer kept; upload the file again to map its columns.")
    overrides = {**_overrides_of(options.get("overrides", {})), **mapping}
    with upload_path(change_set.pk).open("rb") as binary:
        new = import_plan(
            account=change_set.account,
            connection=connection,
            binary=binary,
            file_name=change_set.file_name,
            overrides=overrides,
            create_missing_groups=bool(options.get("create_missing_groups")),
        )
    job_cancel(change_set=change_set, connection=connection)
    ChangeSet.objects.filter(pk=change_set.pk).update(status_message="Replaced by a new plan with mapped columns.")
    upload_forget(change_set.pk)
    return new
