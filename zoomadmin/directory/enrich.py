"""Enrichment: the fields only Get user returns, fetched in the background.

List users leaves out the license block, manager, organization and costCenter (and, in practice,
title, locale and phone numbers), so after a sync every new or changed user is *due*: one Get
user fills its `ENRICHED_FIELDS` and sets `enriched_at`. Most recently changed users (Zoom's
`meta.lastModified`) go first. An inactive user is also looked up by `userName eq`, which Zoom
refuses for a user who has not accepted the invitation yet: that is how the mirror tells
*pending* from *deactivated* (SCIM itself has only `active`).

**Its share of the budget.** Enrichment may use at most half of the account's Light budget, so
admins' clicks and bulk jobs are never starved by it. Each request first takes a slot from an
enrichment sub-budget (a limiter of its own at `ENRICH_SHARE` of our Light budget, kept in Redis
under the account's id plus `:enrichment`, so every worker counts together), and then its slot in
the account's shared budget like any other call: the shared budget stays authoritative. The
shared slot is never waited for (`wait_for_slot=False`): when admins or jobs are using the
budget, the batch stops and the task comes back when the limiter says a slot is free.

The task runs a batch for at most `BATCH_SECONDS`, then enqueues itself again while users are
due; one batch per account runs at a time (a Redis lock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.db.models import F
from django.utils import timezone

from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.models import DirectoryUser, UserStatus
from zoomadmin.directory.services import mirror_user_apply, mirror_user_remove
from zoomadmin.redis import redis_client
from zoomadmin.zoom import filters
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Invalid, NotFound, RateLimited, ZoomError
from zoomadmin.zoom.models import ZoomUser
from zoomadmin.zoom.plans import LIGHT, Budget
from zoomadmin.zoom.ratelimit import Clock, RateLimiter

logger = logging.getLogger(__name__)

# At most this share of our Light budget goes to enrichment (issue #7: "at most half").
ENRICH_SHARE = 0.5
# Get user requests in flight at once (enough for the sub-budget at Zoom's usual latency).
CONCURRENCY = 8
# A batch (one task run) works this long at most, then hands over to the queue.
BATCH_SECONDS = 30.0
# Users taken from the queue per batch.
BATCH_USERS = 2000
# One batch per account at a time; the lock outlives a batch that died by this much.
LOCK_SECONDS = int(BATCH_SECONDS * 4)


def enrichment_limiter(*, clock: Clock | None = None) -> RateLimiter:
    """The limiter of the enrichment sub-budget: ENRICH_SHARE of our share of Zoom's limits."""
    return RateLimiter(redis_client(), share=settings.ZOOM_RATE_LIMIT_SHARE * ENRICH_SHARE, clock=clock)


def enrichment_budget(*, account: ZoomAccount) -> Budget:
    """The Light requests per second enrichment may make on `account`."""
    return enrichment_limiter().budget(plan=account.plan, label=LIGHT)


def enrichment_pending_count(*, account: ZoomAccount) -> int:
    """Users whose Get-user-only fields are not known yet (never enriched)."""
    return DirectoryUser.objects.filter(account=account, enriched_at__isnull=True).count()


def enrichment_due_count(*, account: ZoomAccount) -> int:
    """Users enrichment still has to fetch (never enriched, or changed since)."""
    return DirectoryUser.objects.filter(account=account, enrichment_due=True).count()


def enrichment_request(*, account: ZoomAccount) -> bool:
    """Enqueue an enrichment batch for `account` if users are due; True if one was enqueued."""
    from zoomadmin.directory.tasks import directory_enrich

    if not DirectoryUser.objects.filter(account=account, enrichment_due=True).exists():
        return False
    directory_enrich.delay_on_commit(account.pk)
    return True


@dataclass(frozen=True)
class EnrichResult:
    """What a batch did: users enriched, removed (Zoom no longer has them), still due, and when
    to come back if it stopped for the rate limit (`retry_after`, seconds) or None."""

    enriched: int
    removed: int
    remaining: int
    retry_after: float | None
    locked_out: bool = False


@contextmanager
def _account_lock(account: ZoomAccount) -> Iterator[bool]:
    key = f"zoomadmin:directory:enrich:{account.zoom_id}"
    redis = redis_client()
    held = bool(redis.set(key, "1", nx=True, ex=LOCK_SECONDS))
    try:
        yield held
    finally:
        if held:
            redis.delete(key)


def enrich_batch(
    *,
    account: ZoomAccount,
    limiter: RateLimiter | None = None,
    seconds: float = BATCH_SECONDS,
    max_users: int = BATCH_USERS,
) -> EnrichResult:
    """Fetch the full profile of due users of `account`, most recently changed first.

    Stops after `seconds`, after `max_users`, when none are due, or as soon as a slot is refused
    that would not free up before `seconds` run out (the sub-budget) or at all (the shared budget).
    `limiter` is the enrichment sub-budget (default `enrichment_limiter()`; tests pass one on a
    stepped clock).
    """
    sub = limiter or enrichment_limiter()
    with _account_lock(account) as held:
        if not held:
            return EnrichResult(0, 0, enrichment_due_count(account=account), None, locked_out=True)
        due = list(
            DirectoryUser.objects.filter(account=account, enrichment_due=True)
            .order_by(F("zoom_modified_at").desc(nulls_last=True), "pk")
            .values_list("zoom_id", "email", "active")[:max_users]
        )
        if not due:
            return EnrichResult(0, 0, 0, None)
        with zoom_client(account=account, wait_for_slot=False) as client:
            worker = _Batch(account=account, client=client, limiter=sub, deadline=time.monotonic() + seconds)
            worker.run(due)
        return EnrichResult(
            enriched=worker.enriched,
            removed=worker.removed,
            remaining=enrichment_due_count(account=account),
            retry_after=worker.retry_after,
        )


class _Batch:
    """One batch: threads fetch, the calling thread writes the mirror."""

    def __init__(self, *, account: ZoomAccount, client: ZoomClient, limiter: RateLimiter, deadline: float) -> None:
        self.account = account
        self.client = client
        self.limiter = limiter
        self.deadline = deadline
        self.stop = threading.Event()
        self.enriched = 0
        self.removed = 0
        self.retry_after: float | None = None
        self._lock = threading.Lock()

    def _slot(self) -> bool:
        """One slot of the enrichment sub-budget, waiting for it while the batch has time."""
        while not self.stop.is_set():
            try:
                self.limiter.acquire(
                    account_id=f"{self.account.zoom_id}:enrichment", plan=self.account.plan, label=LIGHT, wait=False
                )
                return True
            except RateLimited as exc:
                if time.monotonic() + exc.retry_after >= self.deadline:
                    self._halt(exc.retry_after)
                    return False
                time.sleep(exc.retry_after)
        return False

    def _halt(self, retry_after: float) -> None:
        with self._lock:
            self.retry_after = retry_after if self.retry_after is None else min(self.retry_after, retry_after)
        self.stop.set()

    def _fetch(self, entry: tuple[str, str, bool]) -> tuple[str, object, str | None] | None:
        """(zoom id, ZoomUser or NotFound, status override) for one user, or None if stopped."""
        zoom_id, email, active = entry
        try:
            if not self._slot():
                return None
            try:
                user: object = self.client.get_user(zoom_id)
            except NotFound as exc:
                return zoom_id, exc, None
            status = None
            if not active and self._slot():
                # Zoom refuses `userName eq` for an invited user who has not accepted yet.
                try:
                    self.client.list_users(1, 1, filters.eq("userName", email))
                    status = UserStatus.INACTIVE
                except Invalid:
                    status = UserStatus.PENDING
            return zoom_id, user, status
        except RateLimited as exc:
            # The shared budget is busy with admins' work: give way, come back when it frees.
            self._halt(exc.retry_after)
            return None
        except ZoomError as exc:
            logger.info("enrichment of %s on %s skipped: %s", zoom_id, self.account.zoom_id, exc.message)
            return None
        finally:
            for connection in connections.all(initialized_only=True):
                connection.close()

    def run(self, due: Sequence[tuple[str, str, bool]]) -> None:
        with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="enrich") as pool:
            for result in pool.map(self._fetch, due):
                if result is None:
                    continue
                zoom_id, answer, status = result
                if isinstance(answer, NotFound):
                    self.removed += int(mirror_user_remove(account=self.account, zoom_id=zoom_id))
                    continue
                assert isinstance(answer, ZoomUser)
                # Keep the list hash: enrichment is not a change the next sync must rewrite.
                digest = (
                    DirectoryUser.objects.filter(account=self.account, zoom_id=zoom_id)
                    .values_list("payload_hash", flat=True)
                    .first()
                )
                mirror_user_apply(account=self.account, user=answer, full=True, status=status)
                DirectoryUser.objects.filter(account=self.account, zoom_id=zoom_id).update(
                    payload_hash=digest or "", enriched_at=timezone.now(), enrichment_due=False
                )
                self.enriched += 1
