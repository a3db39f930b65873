"""The sync: one complete pass over a Zoom account's users and groups into the mirror.

How a pass works (docs/directory.md says it for admins and operators):

1. **Plan.** Page 1 of List users and of List groups gives `totalResults`, so every page offset
   is known up front; their latency sizes the thread pool.
2. **Fetch in parallel.** All other pages are fetched by a pool of threads, so the account's rate
   limit, not Zoom's latency, bounds the pass: each request takes a slot of the shared limiter
   (the client does that) and the threads *wait* for their slot. That is a deliberate exception to
   "workers never sleep on the limiter" (docs/celery.md): the pacing is the whole point of this
   task, each wait is bounded by the limiter (60 s per request, after which the page fails), and a
   pass cut into rescheduled pieces could not know it had seen everything. Pages are read by the
   fast parser (`fastparse`), de-duplicated by Zoom id (offset paging repeats users when Zoom
   inserts some during the pass) and written in batches with bulk upserts, **only the rows whose
   payload changed** (`payload_hash`): a pass over an unchanged account writes no mirror rows. On
   PostgreSQL two writer threads (`_Writers`) write the batches while the pass takes more pages.
3. **Memberships.** From Get group's `members` (one Light call per group), unless the users'
   `groups` attribute comes as an array, which lists every group of a user (Zoom's Get example
   shows a single object: then a user's list item names one group at most, and is not enough).
4. **Remove what is gone, only after a complete pass.** Every planned page answered (a failed page
   fails the pass: nothing is removed, `SyncRun.error` says why). Offset paging can also *skip* a
   user when Zoom deletes another one during the pass, so mirror rows the pass did not see are
   checked with Get user (Get group) before they are removed, when there are at most
   `VERIFY_MAX` of them. More than that is trusted only when the pass was *settled* (every page
   reported the same `totalResults` and exactly that many distinct users were seen); otherwise the
   pass fails with a message and the next one decides. A row removed wrongly would come back at the
   next pass anyway.
5. **Finish.** Removals, membership changes and member counts in one transaction with the run's
   success and `ZoomAccount.last_synced_at`; then enrichment is enqueued for changed users.

A killed pass leaves the mirror as it was plus the rows it had already brought up to date (never
fewer rows); the sweeper marks it failed and the next sync starts a new generation.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Max
from django.utils import timezone

from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.fastparse import (
    GroupRow,
    Page,
    Unreadable,
    UserRow,
    group_row,
    groups_page,
    users_page,
)
from zoomadmin.directory.models import (
    ACTIVE_SYNC,
    DirectoryGroup,
    DirectoryMembership,
    DirectoryUser,
    SyncRun,
    SyncStatus,
    UserStatus,
    member_counts_refresh,
)
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import NotFound, RateLimited, Unavailable, ZoomError
from zoomadmin.zoom.plans import MEDIUM, plan_budget

logger = logging.getLogger(__name__)

# Zoom documents no maximum `count`; integrators page with 100 and the sandbox caps at 100 (the
# reference's suggested cap). A server that answers fewer per page is followed (see `_plan`).
PAGE_SIZE = 100
# Rows per bulk upsert.
BATCH_SIZE = 1000
# Memberships gathered before they are written during a pass.
MEMBERSHIP_BATCH = 5000
# Threads (each with its own database connection) writing batches during a pass on PostgreSQL, and
# how many batches may wait for them before the pass stops taking pages to let them catch up.
WRITERS = 2
WRITES_WAITING = 4
# Unseen mirror rows checked one by one with Zoom before removal, at most.
VERIFY_MAX = 200
# Transient failures of one page are retried this many times inside the pass before it fails.
PAGE_ATTEMPTS = 3
# Longest in-pass wait before retrying a page Zoom answered 429 (longer: the pass fails, says why).
PAGE_RATE_LIMIT_WAIT = 30.0
# Progress (and the heartbeat the sweeper watches) is written at most this often.
PROGRESS_EVERY = 1.0
# A running sync whose heartbeat is older than this has lost its worker; a queued one whose
# message is older than this is enqueued again.
STALL_SECONDS = 180.0

USER_LIST_FIELDS = (
    "user_name",
    "email",
    "given_name",
    "family_name",
    "display_name",
    "active",
    "status",
    "user_type",
    "role",
    "department",
    "employee_number",
    "login_work_email",
    "login_sso",
)
# What a changed list item rewrites (enrichment's fields and `enriched_at` are kept).
USER_UPSERT_FIELDS = (
    *USER_LIST_FIELDS,
    "raw",
    "payload_hash",
    "zoom_created_at",
    "zoom_modified_at",
    "updated_generation",
    "mirror_updated_at",
    "enrichment_due",
)
GROUP_UPSERT_FIELDS = (
    "display_name",
    "email_alias",
    "raw",
    "payload_hash",
    "zoom_modified_at",
    "updated_generation",
    "mirror_updated_at",
)


class SyncFailed(Exception):
    """The pass cannot be trusted to be complete; `message` says why, for the admin."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Requesting a sync


def sync_request(*, account: ZoomAccount, requested_by: Any = None) -> SyncRun:
    """Start a sync of `account`, or join the one already queued or running (returned as is).

    "Sync now" and the periodic sync both come here. The account row is locked while deciding,
    and a partial unique constraint allows one active run per account, so two requests at the same
    moment end up with the same run. The task is enqueued when the transaction commits.
    """
    from zoomadmin.directory.tasks import directory_sync

    with transaction.atomic():
        ZoomAccount.objects.select_for_update().filter(pk=account.pk).first()
        active = SyncRun.objects.filter(account=account, status__in=ACTIVE_SYNC).first()
        if active is not None:
            return active
        latest = SyncRun.objects.filter(account=account).aggregate(latest=Max("generation"))["latest"] or 0
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(account=account, generation=latest + 1, requested_by=requested_by)
        except IntegrityError:
            # Another process created the active run between our check and insert (no account lock
            # on a database without row locks): join it.
            return SyncRun.objects.get(account=account, status__in=ACTIVE_SYNC)
        directory_sync.delay_on_commit(run.pk)
    return run


def syncs_periodic(*, now: datetime | None = None) -> int:
    """Request a sync of every account not synced (or tried) within DIRECTORY_SYNC_INTERVAL_MINUTES.

    Accounts nobody can reach (no active connection) are skipped: their admins see why on the page.
    Returns how many syncs were requested.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.DIRECTORY_SYNC_INTERVAL_MINUTES)
    requested = 0
    for account in ZoomAccount.objects.filter(connections__status="active").distinct():
        latest = SyncRun.objects.filter(account=account).order_by("-generation").first()
        if latest is not None and (latest.is_active or latest.created > cutoff):
            continue
        sync_request(account=account)
        requested += 1
    return requested


def syncs_stalled_resume(*, now: datetime | None = None) -> int:
    """The sweeper: fail runs whose worker died, enqueue again queued runs whose message was lost.

    A running sync writes a heartbeat at least every PROGRESS_EVERY seconds while it fetches; one
    silent for STALL_SECONDS lost its worker (killed, restarted, hard time limit). Its pass cannot
    be resumed (the pages it fetched are gone with it), so it is failed with a sentence, and the
    next sync starts a new generation. Returns how many runs it acted on.
    """
    from zoomadmin.directory.tasks import directory_sync

    now = now or timezone.now()
    stale = now - timedelta(seconds=STALL_SECONDS)
    failed = SyncRun.objects.filter(status=SyncStatus.RUNNING, heartbeat_at__lt=stale).update(
        status=SyncStatus.FAILED,
        finished_at=now,
        error="The sync stopped before it finished (its worker was stopped or restarted). "
        "The directory keeps what it had; the next sync starts over.",
    )
    lost = list(SyncRun.objects.filter(status=SyncStatus.QUEUED, created__lt=stale).values_list("pk", flat=True))
    for run_id in lost:
        # A duplicate message is harmless: sync_execute takes a run only while it is queued.
        directory_sync.delay(run_id)
    return failed + len(lost)


# ---------------------------------------------------------------------------------------------
# Running a sync


def sync_execute(*, run_id: int) -> SyncRun:
    """Run the pass of SyncRun `run_id` (the Celery task's body); returns the finished run.

    Takes the run only while it is queued, so a duplicate task message does nothing. Every
    failure ends in a failed run whose `error` an admin can read; the mirror keeps its rows.
    """
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().select_related("account").get(pk=run_id)
        if run.status != SyncStatus.QUEUED:
            return run
        now = timezone.now()
        run.status = SyncStatus.RUNNING
        run.started_at = now
        run.heartbeat_at = now
        run.attempts += 1
        run.save(update_fields=["status", "started_at", "heartbeat_at", "attempts"])
    try:
        with zoom_client(account=run.account, wait_for_slot=True) as client:
            _Pass(run=run, client=client).execute()
    except ZoomError as exc:
        _fail(run, exc.message)
    except SyncFailed as exc:
        _fail(run, exc.message)
    except Unreadable as exc:
        _fail(run, f"Zoom answered with data zoomadmin cannot read ({exc}). Try again; if it persists, report it.")
    except BaseException:
        # A bug or a time limit: the run must not stay "running" for the sweeper to find later.
        _fail(run, "The sync stopped because of an internal error; the details are in the worker's log.")
        raise
    else:
        from zoomadmin.directory.enrich import enrichment_request

        enrichment_request(account=run.account)
    return run


def _fail(run: SyncRun, message: str) -> None:
    logger.warning("sync %s of account %s failed: %s", run.generation, run.account.zoom_id, message)
    run.status = SyncStatus.FAILED
    run.finished_at = timezone.now()
    run.error = message[:1000]
    SyncRun.objects.filter(pk=run.pk).update(status=run.status, finished_at=run.finished_at, error=run.error)


class _Existing(NamedTuple):
    pk: int
    hash: str
    status: str


@dataclass
class _Groups:
    """What the pass learned about groups."""

    rows: dict[str, tuple[GroupRow, str, dict[str, Any]]] = field(default_factory=dict)
    totals: list[int] = field(default_factory=list)
    # Members by group id, from Get group (None: the answer did not list them).
    members: dict[str, tuple[str, ...] | None] = field(default_factory=dict)


class _Pass:
    """One pass of the sync (see the module docstring).

    Only the calling thread and the writer threads (`_Writers`, each writing whole batches) touch the
    database; the fetching threads only fetch and parse.
    """

    def __init__(self, *, run: SyncRun, client: ZoomClient) -> None:
        self.run = run
        self.account = run.account
        self.client = client
        self.generation = run.generation
        self.now = timezone.now()
        # What the mirror holds when the pass starts (`_mirror_load`, while the first pages come).
        self.existing: dict[str, _Existing] = {}
        # Memberships are written while the pass runs, as soon as a group's Get answer and its
        # members' rows are both in (a first sync of 50,000 users has 173,000 of them: written at the
        # end, they doubled its duration). Removals and member counts wait for the end, as rows do.
        self.user_pks: dict[str, int] = {}
        self.group_pks: dict[str, int] | None = None
        self.memberships_before: dict[tuple[int, int], int] = {}
        self.memberships_early: set[tuple[int, int]] = set()
        self.members_waiting: dict[str, list[int]] = {}
        self.members_ready: list[tuple[int, int]] = []
        self.seen: set[str] = set()
        self.user_totals: list[int] = []
        self.user_groups: dict[str, tuple[str, ...]] = {}
        self.groups_listed = False
        self.groups = _Groups()
        self.batch: list[dict[str, Any]] = []
        # Batches being written by the writer threads: what each future's result is for.
        self.writing: dict[Future[Any], str] = {}
        self.writers: _Writers | None = None
        self.last_progress = 0.0
        self.step = PAGE_SIZE
        self.next_start = 1
        self.owner = threading.current_thread()
        self.concurrency = 1

    # -- fetching (worker threads) ------------------------------------------------------------

    def _with_retries[T](self, fetch: Callable[[], T]) -> T:
        """Run one request, retrying transient failures a few times inside the pass."""
        try:
            for attempt in range(1, PAGE_ATTEMPTS + 1):
                try:
                    return fetch()
                except RateLimited as exc:
                    if attempt == PAGE_ATTEMPTS or exc.retry_after > PAGE_RATE_LIMIT_WAIT:
                        raise
                    time.sleep(exc.retry_after)
                except Unavailable:
                    if attempt == PAGE_ATTEMPTS:
                        raise
                    time.sleep(0.5 * 2**attempt)
            raise AssertionError("unreachable")
        finally:
            if threading.current_thread() is not self.owner:
                # A token refresh may have opened this pool thread's own database connection.
                for connection in connections.all(initialized_only=True):
                    connection.close()

    def _users_page(self, start: int) -> Page[UserRow]:
        return self._with_retries(lambda: users_page(self.client.list_users_raw(start, PAGE_SIZE)))

    def _groups_page(self, start: int) -> Page[GroupRow]:
        return self._with_retries(lambda: groups_page(self.client.list_groups_raw(start, PAGE_SIZE)))

    def _group_members(self, zoom_id: str) -> tuple[str, tuple[str, ...] | None]:
        return zoom_id, self._with_retries(lambda: group_row(self.client.get_group_raw(zoom_id)).member_ids)

    # -- the pass -----------------------------------------------------------------------------

    def execute(self) -> None:
        # Batches are written by writer threads, so the database works on two at once while this
        # thread goes on taking pages (PostgreSQL; SQLite writes one at a time anyway, here).
        vendor = connections[router.db_for_write(DirectoryUser)].vendor
        try:
            with _Writers(WRITERS if vendor == "postgresql" else 0) as self.writers:
                self._execute()
        finally:
            gc.unfreeze()

    def _mirror_load(self) -> None:
        """Read what the mirror holds for the account: its users (to compare) and memberships."""
        users = DirectoryUser.objects.filter(account=self.account).order_by()
        self.existing = {
            zoom_id: _Existing(pk, digest, status)
            for zoom_id, pk, digest, status in users.values_list("zoom_id", "pk", "payload_hash", "status")
        }
        self.user_pks = {zoom_id: existing.pk for zoom_id, existing in self.existing.items()}
        memberships = DirectoryMembership.objects.filter(account=self.account).order_by()
        self.memberships_before = {
            (group_pk, user_pk): pk for pk, group_pk, user_pk in memberships.values_list("pk", "group_id", "user_id")
        }

    def _timed[T](self, fetch: Callable[[], T]) -> tuple[T, float]:
        started = time.monotonic()
        return fetch(), time.monotonic() - started

    def _execute(self) -> None:
        started = time.monotonic()
        # The first page of users and of groups, together, while the mirror's state is read.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sync") as first:
            users_future = first.submit(self._timed, lambda: self._users_page(1))
            groups_future = first.submit(self._timed, lambda: self._groups_page(1))
            self._mirror_load()
            # Python's full collections scanned everything alive (Django, this worker, the mirror's
            # state just read) and held every thread for up to 160 ms a few times a pass, while
            # threads holding a rate-limit slot waited to send: what is alive now stays out of them
            # until the pass ends (`execute`). Refcounting still frees it (docs/benchmarks.md).
            gc.freeze()
            (first_users, users_latency), (first_groups, groups_latency) = users_future.result(), groups_future.result()
        latency = (users_latency + groups_latency) / 2
        self.groups_listed = any(item.row.groups_listed for item in first_users.items)
        user_starts, self.step = _plan(first_users, PAGE_SIZE)
        group_starts, _ = _plan(first_groups, PAGE_SIZE)
        self.next_start = (user_starts[-1] if user_starts else 1) + self.step
        self.run.pages_total = 2 + len(user_starts) + len(group_starts)
        self.run.pages_done = 2
        self._take_users(first_users)
        self._take_groups(first_groups)
        self._progress(force=True)

        self.concurrency = self._concurrency(latency)
        # Get group calls (Light) have threads of their own, so they run beside the list pages
        # (Medium) instead of queueing behind hundreds of them: each label's budget is spent at once.
        with (
            ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="sync") as pool,
            ThreadPoolExecutor(max_workers=max(2, self.concurrency // 2), thread_name_prefix="sync-get") as gets,
        ):
            pending: dict[Future[Any], str] = {}
            for start in group_starts:
                pending[pool.submit(self._groups_page, start)] = "groups"
            for start in user_starts:
                pending[pool.submit(self._users_page, start)] = "users"
            group_pages_left = len(group_starts)
            if group_pages_left == 0:
                self._groups_listed_all(gets, pending)
            while pending:
                done, _ = wait([*pending, *self.writing], return_when=FIRST_COMPLETED)
                for future in done:
                    if future not in pending:
                        self._written(future)
                        continue
                    kind = pending.pop(future)
                    result = future.result()  # a page that failed for good fails the pass
                    if kind == "users":
                        self._take_users(result)
                    elif kind == "groups":
                        self._take_groups(result)
                        group_pages_left -= 1
                        if group_pages_left == 0:
                            self._groups_listed_all(gets, pending)
                    else:
                        zoom_id, members = result
                        self.groups.members[zoom_id] = members
                        self._members_known(zoom_id, members)
                    self.run.pages_done += 1
                self._progress()
            self._flush()
            # Offset paging ends early when Zoom added users during the pass: fetch what the last
            # pages say is there (rarely more than one extra page).
            self._fetch_tail()
            self._writes_wait(until=0)
            self._memberships_write(at_least=1)
            self._writes_wait(until=0)
            fetched = time.monotonic()
            verified_users, verified_groups = self._verify_removals(pool)
        verified = time.monotonic()
        self._finish(verified_users, verified_groups)
        logger.info(
            "sync %s of %s: %d pages in %.2f s (%d in flight), checks %.2f s, final writes %.2f s",
            self.generation,
            self.account.zoom_id,
            self.run.pages_done,
            fetched - started,
            self.concurrency,
            verified - fetched,
            time.monotonic() - verified,
        )

    def _concurrency(self, latency: float) -> int:
        """Requests in flight: enough to keep the Medium budget busy at the observed latency.

        The first two requests are answered before the pass loads anyone; answers slow down once
        dozens of pages are in flight (Zoom's side and our parsing), so three times what the first
        latency asks for. A thread with no work waits on the limiter, which costs nothing.
        """
        budget = plan_budget(plan=self.account.plan, label=MEDIUM, share=settings.ZOOM_RATE_LIMIT_SHARE)
        per_second = budget.per_window / budget.window
        wanted = math.ceil(per_second * max(latency, 0.01) * 3) + 4
        return max(2, min(settings.DIRECTORY_SYNC_CONCURRENCY, wanted))

    def _groups_listed_all(self, pool: ThreadPoolExecutor, pending: dict[Future[Any], str]) -> None:
        """Every group page is in: store the groups (so memberships can name them), ask for members."""
        self.group_pks = {zoom_id: group.pk for zoom_id, group in self._store_groups(set()).items()}
        self._submit_group_gets(pool, pending)

    def _submit_group_gets(self, pool: ThreadPoolExecutor, pending: dict[Future[Any], str]) -> None:
        if self.groups_listed:
            return
        for zoom_id in self.groups.rows:
            pending[pool.submit(self._group_members, zoom_id)] = "members"
        self.run.pages_total += len(self.groups.rows)

    def _fetch_tail(self) -> None:
        while self.user_totals and self.next_start <= max(self.user_totals):
            page = self._users_page(self.next_start)
            self.run.pages_total += 1
            self.run.pages_done += 1
            if not page.items:
                break
            self._take_users(page)
            self.next_start += self.step
        self._flush()

    # -- storing (calling thread) -------------------------------------------------------------

    def _take_users(self, page: Page[UserRow]) -> None:
        if page.total_results is not None:
            self.user_totals.append(page.total_results)
        for item in page.items:
            row = item.row
            if row.zoom_id in self.seen:
                continue  # shifted into the next page by an insert: seen already
            self.seen.add(row.zoom_id)
            self.user_groups[row.zoom_id] = row.group_ids
            old = self.existing.get(row.zoom_id)
            if old is not None and old.hash == item.hash:
                continue
            if old is None:
                self.run.users_created += 1
            else:
                self.run.users_updated += 1
            self.batch.append(self._user(row, item.hash, JsonText(item.text), old))
        if len(self.batch) >= BATCH_SIZE:
            self._flush()

    def _user(self, row: UserRow, digest: str, raw: JsonText, old: _Existing | None) -> dict[str, Any]:
        # SCIM says only active or not; a user enrichment found pending stays pending while inactive.
        if row.active:
            status = UserStatus.ACTIVE
        elif old is not None and old.status == UserStatus.PENDING:
            status = UserStatus.PENDING
        else:
            status = UserStatus.INACTIVE
        return {
            "account_id": self.account.pk,
            "zoom_id": row.zoom_id,
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
            "raw": raw,
            "payload_hash": digest,
            "zoom_created_at": row.zoom_created_at,
            "zoom_modified_at": row.zoom_modified_at,
            "updated_generation": self.generation,
            "mirror_updated_at": self.now,
            "enrichment_due": True,
        }

    def _flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        self._write("users", _users_write, batch)

    def _write(self, kind: str, write: Callable[..., Any], *args: Any) -> None:
        """Hand a batch to the writer threads (waiting for them first when they are behind)."""
        assert self.writers is not None, "writes happen during the pass"
        self._writes_wait(until=WRITES_WAITING - 1)
        self.writing[self.writers.submit(write, *args)] = kind

    def _writes_wait(self, *, until: int) -> None:
        """Take the written batches' results until at most `until` batches are still being written."""
        while len(self.writing) > until:
            done, _ = wait(self.writing, return_when=FIRST_COMPLETED)
            for future in done:
                self._written(future)

    def _written(self, future: Future[Any]) -> None:
        """A batch is written (a write that failed fails the pass); its users' keys free memberships.

        Nothing to do if it was taken already: taking a batch may hand over another one, and wait
        for an earlier one that is in the caller's `done` too.
        """
        kind = self.writing.pop(future, None)
        if kind is None:
            return
        result = future.result()
        if kind != "users":
            return
        for zoom_id, pk in result:
            if zoom_id in self.user_pks:
                continue
            self.user_pks[zoom_id] = pk
            for group_pk in self.members_waiting.pop(zoom_id, ()):
                self._membership_ready(group_pk, pk)
        self._memberships_write()

    # -- memberships while the pass runs (calling thread) -----------------------------------

    def _members_known(self, group_zoom_id: str, members: tuple[str, ...] | None) -> None:
        """A Get group answer listed the group's members: each (group, member) pair is wanted."""
        group_pk = None if self.group_pks is None else self.group_pks.get(group_zoom_id)
        if members is None or group_pk is None:
            return
        for member in members:
            user_pk = self.user_pks.get(member)
            if user_pk is None:
                self.members_waiting.setdefault(member, []).append(group_pk)  # its page has not come yet
            else:
                self._membership_ready(group_pk, user_pk)
        self._memberships_write()

    def _membership_ready(self, group_pk: int, user_pk: int) -> None:
        pair = (group_pk, user_pk)
        if pair not in self.memberships_before and pair not in self.memberships_early:
            self.memberships_early.add(pair)
            self.members_ready.append(pair)

    def _memberships_write(self, *, at_least: int = MEMBERSHIP_BATCH) -> None:
        if not self.members_ready or len(self.members_ready) < at_least:
            return
        pairs, self.members_ready = self.members_ready, []
        self._write("memberships", _memberships_insert, self.account.pk, pairs)

    def _take_groups(self, page: Page[GroupRow]) -> None:
        if page.total_results is not None:
            self.groups.totals.append(page.total_results)
        for item in page.items:
            self.groups.rows.setdefault(item.row.zoom_id, (item.row, item.hash, item.raw))

    def _progress(self, *, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self.last_progress < PROGRESS_EVERY:
            return
        self.last_progress = moment
        self.run.users_seen = len(self.seen)
        self.run.groups_seen = len(self.groups.rows)
        self.run.heartbeat_at = timezone.now()
        SyncRun.objects.filter(pk=self.run.pk).update(
            pages_total=self.run.pages_total,
            pages_done=self.run.pages_done,
            users_seen=self.run.users_seen,
            groups_seen=self.run.groups_seen,
            heartbeat_at=self.run.heartbeat_at,
        )

    # -- removals -----------------------------------------------------------------------------

    def _settled(self) -> bool:
        """Zoom's list did not visibly change during the pass."""
        totals = set(self.user_totals)
        return len(totals) == 1 and len(self.seen) == totals.pop()

    def _verify_removals(self, pool: ThreadPoolExecutor) -> tuple[set[str], set[str]]:
        """The unseen users and groups that are really gone from Zoom (see the module docstring)."""
        unseen_users = set(self.existing) - self.seen
        existing_groups = set(DirectoryGroup.objects.filter(account=self.account).values_list("zoom_id", flat=True))
        unseen_groups = existing_groups - set(self.groups.rows)
        if len(unseen_users) + len(unseen_groups) <= VERIFY_MAX:
            gone_users = self._gone(pool, unseen_users, self.client.get_user)
            gone_groups = self._gone(pool, unseen_groups, self.client.get_group_raw)
            return gone_users, gone_groups
        if not self._settled():
            raise SyncFailed(
                f"Zoom's user list changed while it was being read, and {len(unseen_users)} users were not seen. "
                "Nothing was removed from the directory; the next sync will check again."
            )
        return unseen_users, unseen_groups

    def _gone(self, pool: ThreadPoolExecutor, zoom_ids: Iterable[str], get: Callable[[str], object]) -> set[str]:
        def check(zoom_id: str) -> str | None:
            def probe() -> str | None:
                try:
                    get(zoom_id)
                except NotFound:
                    return zoom_id
                return None

            return self._with_retries(probe)

        return {zoom_id for zoom_id in pool.map(check, sorted(zoom_ids)) if zoom_id is not None}

    # -- the end of a complete pass -----------------------------------------------------------

    def _finish(self, gone_users: set[str], gone_groups: set[str]) -> None:
        run = self.run
        with transaction.atomic():
            groups = self._store_groups(gone_groups)
            if gone_users:
                run.users_removed = (
                    DirectoryUser.objects.filter(account=self.account, zoom_id__in=gone_users)
                    .delete()[1]
                    .get(DirectoryUser._meta.label, 0)
                )
            if gone_groups:
                run.groups_removed = (
                    DirectoryGroup.objects.filter(account=self.account, zoom_id__in=gone_groups)
                    .delete()[1]
                    .get(DirectoryGroup._meta.label, 0)
                )
            self._store_memberships(groups)
            run.status = SyncStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.heartbeat_at = run.finished_at
            run.users_seen = len(self.seen)
            run.groups_seen = len(self.groups.rows)
            run.error = ""
            run.save()
            ZoomAccount.objects.filter(pk=self.account.pk).update(last_synced_at=run.finished_at)
            self.account.last_synced_at = run.finished_at

    def _store_groups(self, gone: set[str]) -> dict[str, DirectoryGroup]:
        """Upsert changed groups; the account's groups by Zoom id (without the removed ones)."""
        current = {group.zoom_id: group for group in DirectoryGroup.objects.filter(account=self.account)}
        changed: list[DirectoryGroup] = []
        for zoom_id, (row, digest, raw) in self.groups.rows.items():
            old = current.get(zoom_id)
            if old is not None and old.payload_hash == digest:
                continue
            if old is None:
                self.run.groups_created += 1
            else:
                self.run.groups_updated += 1
            changed.append(
                DirectoryGroup(
                    account=self.account,
                    zoom_id=zoom_id,
                    display_name=row.display_name,
                    email_alias=row.email_alias,
                    raw=raw,
                    payload_hash=digest,
                    zoom_modified_at=row.zoom_modified_at,
                    updated_generation=self.generation,
                    mirror_updated_at=self.now,
                )
            )
        if changed:
            DirectoryGroup.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["account", "zoom_id"],
                update_fields=list(GROUP_UPSERT_FIELDS),
            )
            current = {group.zoom_id: group for group in DirectoryGroup.objects.filter(account=self.account)}
        return {zoom_id: group for zoom_id, group in current.items() if zoom_id not in gone}

    def _store_memberships(self, groups: dict[str, DirectoryGroup]) -> None:
        """Bring the membership rows in line with what the pass learned, and the member counts."""
        # (The loops over every membership are written with map, zip and set operations: a pass
        # over 50,000 users and 173,000 memberships spent half a second here in Python loops.)
        # Read again, not `self.user_pks`: users removed just now, or by an admin during the pass,
        # must not get memberships (the database does not check them).
        user_pks = dict(DirectoryUser.objects.filter(account=self.account).order_by().values_list("zoom_id", "pk"))
        seen_pks = set(filter(None, map(user_pks.get, self.seen)))
        wanted: set[tuple[int, int]] = set()
        # Groups whose Get answer listed members: that list is the whole truth about the group.
        listed_groups: set[int] = set()
        for zoom_id, members in self.groups.members.items():
            group = groups.get(zoom_id)
            if group is None or members is None:
                continue
            listed_groups.add(group.pk)
            # Keys are positive, so filter(None) drops exactly the members the mirror does not hold.
            wanted.update(zip(repeat(group.pk), filter(None, map(user_pks.get, members)), strict=False))
        # Other groups: the users' `groups` attribute, the truth about the users this pass saw.
        for user_zoom_id, group_ids in self.user_groups.items():
            user_pk = user_pks.get(user_zoom_id)
            if user_pk is None:
                continue
            for group_id in group_ids:
                group = groups.get(group_id)
                if group is not None and group.pk not in listed_groups:
                    wanted.add((group.pk, user_pk))
        # What was there before the pass; the pairs written during it are all wanted (Get group's lists).
        existing = self.memberships_before
        stale = [
            existing[(group_pk, user_pk)]
            for group_pk, user_pk in existing.keys() - wanted
            if group_pk in listed_groups or user_pk in seen_pks
        ]
        added = list(wanted.difference(existing, self.memberships_early))
        if stale:
            self.run.memberships_removed = DirectoryMembership.objects.filter(pk__in=stale).delete()[0]
        if added:
            _memberships_insert(self.account.pk, added)
        self.run.memberships_added = len(added) + len(self.memberships_early)
        if stale or added or self.memberships_early:
            # Counted by the database: the rows written during the pass, and any an admin added meanwhile.
            member_counts_refresh(group.pk for group in groups.values())


def _users_write(batch: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Upsert a batch of user rows; the Zoom id and key of each (a writer thread's task)."""
    return bulk_upsert(
        DirectoryUser,
        batch,
        unique_fields=("account", "zoom_id"),
        update_fields=USER_UPSERT_FIELDS,
        returning=("zoom_id", "pk"),
    )


def _memberships_insert(account_pk: int, pairs: Iterable[tuple[int, int]]) -> None:
    """Insert (group, user) memberships of an account; pairs already there stay as they are.

    A pass only inserts pairs the mirror did not have when it started, so they are new unless an
    admin added the same member meanwhile (then that batch takes the slower upsert).
    """
    bulk_upsert(
        DirectoryMembership,
        [{"account_id": account_pk, "group_id": g, "user_id": u} for g, u in pairs],
        unique_fields=("group", "user"),
        update_fields=(),
        probably_new=True,
    )


class _Writers:
    """Threads that run a pass's database writes, each on its own connection (kept for the pass).

    A `ThreadPoolExecutor` would do, except that each thread must close its connection when the
    pass ends, and an executor cannot run a task on every one of its threads. With no threads, a
    write runs when it is submitted, on the caller's connection.
    """

    def __init__(self, count: int) -> None:
        self.tasks: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self.threads = [
            threading.Thread(target=self._run, name=f"sync-write-{number}", daemon=True) for number in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, write: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if self.threads:
            self.tasks.put((future, write, args))
        else:
            self._do(future, write, args)
        return future

    def _run(self) -> None:
        try:
            while (task := self.tasks.get()) is not None:
                self._do(*task)
        finally:
            connections.close_all()

    @staticmethod
    def _do(future: Future[Any], write: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(write(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the pass, which fails with it
            future.set_exception(exc)

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Let the threads finish what was handed to them, close their connections and stop."""
        for _ in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()


def _plan(first: Page[Any], page_size: int) -> tuple[list[int], int]:
    """The start indexes of the pages after `first` (from its `totalResults`), and the page step.

    A server that answers fewer items than asked (its own cap) is paged by what it answers.
    """
    total = first.total_results
    served = len(first.items)
    step = served if 0 < served < page_size else page_size
    if total is None or served == 0 or served >= total:
        return [], step
    return list(range(1 + step, total + 1, step)), step


# ---------------------------------------------------------------------------------------------
# Freshness, for every page


@dataclass(frozen=True)
class Freshness:
    """How fresh an account's mirror is, for the pages' freshness line and "Sync now" progress.

    `last_synced_at`: the end of the last complete pass (None: never). `running`: the queued or
    running sync, if any (its `pages_done` of `pages_total` is the progress). `failed`: the latest
    run, when it failed after the last success (its `error` says why). `last_success`: that pass
    (its `duration_seconds`). `enrichment_pending`: users whose Get-user-only fields are not known yet.
    """

    last_synced_at: datetime | None
    running: SyncRun | None
    failed: SyncRun | None
    last_success: SyncRun | None
    enrichment_pending: int

    @property
    def progress_percent(self) -> int | None:
        """The running sync's progress, 0..100 (None when none runs or nothing is planned yet)."""
        if self.running is None or not self.running.pages_total:
            return None
        return min(100, round(100 * self.running.pages_done / self.running.pages_total))


def sync_freshness(*, account: ZoomAccount) -> Freshness:
    """The freshness of `account`'s mirror (three small queries)."""
    latest = list(SyncRun.objects.filter(account=account).order_by("-generation")[:1])
    running = latest[0] if latest and latest[0].is_active else None
    last_success = SyncRun.objects.filter(account=account, status=SyncStatus.SUCCEEDED).order_by("-generation").first()
    failed = next(
        (
            run
            for run in SyncRun.objects.filter(account=account)
            .exclude(status__in=ACTIVE_SYNC)
            .order_by("-generation")[:1]
            if run.status == SyncStatus.FAILED
        ),
        None,
    )
    pending = DirectoryUser.objects.filter(account=account, enriched_at__isnull=True).count()
    return Freshness(
        last_synced_at=account.last_synced_at,
        running=running,
        failed=failed,
        last_success=last_success,
        enrichment_pending=pending,
    )


class JsonText(str):
    """A JSON value already serialized (a payload's canonical text): `bulk_upsert` stores it as it is."""


def bulk_upsert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    unique_fields: tuple[str, ...],
    update_fields: tuple[str, ...],
    returning: tuple[str, ...] = (),
    probably_new: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert `rows` (field name → value; missing fields take their default), updating
    `update_fields` of rows that already exist (none: leave them alone).

    Returns the `returning` fields (`"pk"` for the primary key) of every row inserted or updated,
    in no particular order (nothing when `returning` is empty).

    On PostgreSQL the batch is streamed with COPY into a temporary table, then upserted with one
    `INSERT … SELECT … ON CONFLICT`: a first sync writes tens of thousands of rows, and building a
    model instance per row (bulk_create) cost more than the rate limit leaves per row. With
    `probably_new` (the caller knows of no existing row among them), the rows are first COPYed
    straight into the table, which halves the database's work; if one exists after all, that COPY
    is undone and the batch takes the upsert (`probably_new` cannot be combined with `returning`).
    Elsewhere, bulk_create.
    """
    if not rows:
        return []
    if probably_new and returning:
        raise ValueError("bulk_upsert: probably_new rows are COPYed, which returns nothing")
    if returning and not update_fields:
        raise ValueError("bulk_upsert: rows left as they were are not returned; returning needs update_fields")
    connection = connections[router.db_for_write(model)]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    # Concrete fields always have a column; the stubs allow None for the others.
    column_names = {column_field.name: str(column_field.column) for column_field in fields}
    if connection.vendor != "postgresql":
        rows = [
            {name: json.loads(value) if isinstance(value, JsonText) else value for name, value in row.items()}
            for row in rows
        ]
        instances = [model(**{**{f.attname: f.get_default() for f in fields}, **row}) for row in rows]
        if update_fields:
            model._default_manager.bulk_create(
                instances,
                batch_size=BATCH_SIZE,
                update_conflicts=True,
                unique_fields=list(unique_fields),
                update_fields=list(update_fields),
            )
        else:
            model._default_manager.bulk_create(instances, batch_size=BATCH_SIZE, ignore_conflicts=True)
        if not returning:
            return []
        if any(instance.pk is None for instance in instances):
            # SQLite 3.35+ and PostgreSQL set the keys of upserted rows; older databases do not.
            raise RuntimeError("bulk_upsert: this database did not say which rows it wrote")
        return [tuple(getattr(instance, name) for name in returning) for instance in instances]
    # COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT from it. Measured on
    # 50,000 users (docs/benchmarks.md, directory sync): sending the rows as one array parameter per
    # column cost 90 µs a row, most of it building and parsing the arrays' text (the raw payloads'
    # quotes escaped twice); COPY streams them as rows.
    columns = [connection.ops.quote_name(column_names[column_field.name]) for column_field in fields]
    # psycopg writes str, int, bool and aware datetimes itself; JSON goes as text (a `JsonText` is
    # text already); anything else takes its field's adaptation.
    passed = (str, int, bool, datetime, type(None))

    def prepared(column_field: models.Field[Any, Any], value: Any) -> Any:
        if isinstance(column_field, models.JSONField):
            return value if isinstance(value, JsonText) else json.dumps(value)
        if not isinstance(value, passed) or (isinstance(value, datetime) and timezone.is_naive(value)):
            return column_field.get_db_prep_save(value, connection)
        return value

    # The fields a row leaves out take their default, prepared once per batch, not once per row.
    defaults = [prepared(column_field, column_field.get_default()) for column_field in fields]
    positions = {
        column_field.attname: (index, column_field, isinstance(column_field, models.JSONField))
        for index, column_field in enumerate(fields)
    }
    plain = {str, int, bool, type(None)}

    def values_of(row: dict[str, Any]) -> list[Any]:
        values = defaults.copy()
        for attname, value in row.items():
            index, column_field, is_json = positions[attname]
            # Most values are plain str, int or bool: psycopg writes them as they are.
            values[index] = value if type(value) in plain and not is_json else prepared(column_field, value)
        return values

    conflict = ", ".join(connection.ops.quote_name(column_names[name]) for name in unique_fields)
    if update_fields:
        quoted = [connection.ops.quote_name(column_names[name]) for name in update_fields]
        action = "DO UPDATE SET " + ", ".join(f"{column} = EXCLUDED.{column}" for column in quoted)
    else:
        action = "DO NOTHING"
    # Only names from the model's metadata go into the text; every value travels through COPY.
    returned = ", ".join(
        connection.ops.quote_name(str(model._meta.pk.column) if name == "pk" else column_names[name])
        for name in returning
    )
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"zoomadmin_upsert_{model._meta.db_table}")
    column_list = ", ".join(columns)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:

        def copy_into(target: str) -> None:
            with cursor.cursor.copy(f"COPY {target} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values_of(row))

        if probably_new:
            try:
                # The psycopg cursor's errors become Django's (a duplicate: IntegrityError).
                with transaction.atomic(using=connection.alias), connection.wrap_database_errors:
                    copy_into(table)
                return []
            except IntegrityError:
                pass  # one of them was there after all: the upsert below
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {column_list} FROM {table} WITH NO DATA"
        )
        copy_into(staging)
        cursor.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {staging} "  # noqa: S608
            f"ON CONFLICT ({conflict}) {action}" + (f" RETURNING {returned}" if returning else "")
        )
        written = [tuple(row) for row in cursor.fetchall()] if returning else []
        # Dropped now, not only at commit: a caller inside a longer transaction may upsert again.
        cursor.execute(f"DROP TABLE {staging}")
        return written
