"""The sync against the in-process sandbox: it fills the mirror, writes nothing when nothing changed,
removes only after a complete pass, survives Zoom changing underneath, and one runs per account."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from django.utils import timezone

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory import sync
from zoomadmin.directory.models import (
    DirectoryGroup,
    DirectoryMembership,
    DirectoryUser,
    SyncRun,
    SyncStatus,
    UserStatus,
)
from zoomadmin.directory.services import sync_freshness, sync_request
from zoomadmin.directory.sync import sync_execute, syncs_periodic, syncs_stalled_resume
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser
from zoomadmin.sandbox.seed import account_seed
from zoomadmin.sandbox.transport import sandbox_transport

# Worker threads fetch pages from the in-process sandbox on their own database connections: the
# rows they read must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

USERS = 250
GROUPS = 12


@pytest.fixture
def seeded(stored_connection: Callable[..., ZoomConnection]) -> tuple[SandboxAccount, ZoomAccount]:
    """A seeded sandbox account of 250 users and 12 groups, and the dashboard's ZoomAccount (connected Owner)."""
    account_seed(users=USERS, groups=GROUPS, account_name="Sync Corp", domain="sync.example.com", seed=11)
    sandbox = SandboxAccount.objects.get(name="Sync Corp")
    sandbox.rate_limits_enabled = False
    sandbox.save()
    owner = SandboxUser.objects.get(account=sandbox, role=Role.OWNER)
    connection = stored_connection(owner)
    return sandbox, connection.account


def _sync(account: ZoomAccount) -> SyncRun:
    run = sync_request(account=account)
    return sync_execute(run_id=run.pk)


def _sandbox_pairs(sandbox: SandboxAccount) -> set[tuple[str, str]]:
    return {
        (group.zoom_id, user.zoom_id)
        for group in SandboxGroup.objects.filter(account=sandbox).prefetch_related("members")
        for user in group.members.all()
    }


def _mirror_pairs(account: ZoomAccount) -> set[tuple[str, str]]:
    return set(DirectoryMembership.objects.filter(account=account).values_list("group__zoom_id", "user__zoom_id"))


def test_full_sync_creates_the_mirror(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    sandbox, account = seeded
    run = _sync(account)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert gc.get_freeze_count() == 0  # what the pass kept out of collections is back in them
    assert run.generation == 1
    assert run.users_created == run.users_seen == USERS
    assert run.groups_created == run.groups_seen == GROUPS
    assert run.pages_done == run.pages_total > 3

    assert set(DirectoryUser.objects.filter(account=account).values_list("zoom_id", flat=True)) == set(
        SandboxUser.objects.filter(account=sandbox).values_list("zoom_id", flat=True)
    )
    # The default "object" shape names one group per user in List users: members come from Get group.
    assert _mirror_pairs(account) == _sandbox_pairs(sandbox)
    assert run.memberships_added == len(_sandbox_pairs(sandbox))
    for group in DirectoryGroup.objects.filter(account=account):
        assert group.member_count == SandboxGroup.objects.get(zoom_id=group.zoom_id).members.count()

    some = SandboxUser.objects.filter(account=sandbox, role=Role.MEMBER).exclude(employee_number="").first()
    assert some is not None
    mirrored = DirectoryUser.objects.get(account=account, zoom_id=some.zoom_id)
    assert (mirrored.user_name, mirrored.email, mirrored.department, mirrored.employee_number) == (
        some.user_name,
        some.user_name.lower(),
        some.department,
        some.employee_number,
    )
    assert mirrored.enriched_at is None
    assert mirrored.enrichment_due
    owner = DirectoryUser.objects.get(account=account, role="Owner")
    assert owner.is_privileged
    account.refresh_from_db()
    assert account.last_synced_at == run.finished_at
    fresh = sync_freshness(account=account)
    assert fresh.last_success == run
    assert fresh.running is None
    assert fresh.failed is None
    assert fresh.enrichment_pending == USERS


@pytest.mark.parametrize("waiting", [1, 2])
def test_small_batches_written_by_parallel_writers_fill_the_same_mirror(
    seeded: tuple[SandboxAccount, ZoomAccount], monkeypatch: pytest.MonkeyPatch, waiting: int
) -> None:
    """Dozens of user and membership batches, two writer threads, the pass waiting for them when
    they are behind (with 1, before every batch it hands over, so it often takes a written batch
    before the loop that saw it finish gets to it): every user and membership lands once."""
    sandbox, account = seeded
    monkeypatch.setattr(sync, "BATCH_SIZE", 17)
    monkeypatch.setattr(sync, "MEMBERSHIP_BATCH", 23)
    monkeypatch.setattr(sync, "WRITES_WAITING", waiting)
    run = _sync(account)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.users_created == USERS
    assert set(DirectoryUser.objects.filter(account=account).values_list("zoom_id", flat=True)) == set(
        SandboxUser.objects.filter(account=sandbox).values_list("zoom_id", flat=True)
    )
    assert _mirror_pairs(account) == _sandbox_pairs(sandbox)
    assert run.memberships_added == DirectoryMembership.objects.filter(account=account).count()
    for group in DirectoryGroup.objects.filter(account=account):
        assert group.member_count == SandboxGroup.objects.get(zoom_id=group.zoom_id).members.count()
    assert _sync(account).rows_written == 0


def test_a_write_that_fails_fails_the_pass(
    seeded: tuple[SandboxAccount, ZoomAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox, account = seeded
    monkeypatch.setattr(sync, "BATCH_SIZE", 40)
    calls = 0
    users_write = sync._users_write

    def failing(batch: list[dict[str, Any]]) -> list[tuple[str, int]]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        return users_write(batch)

    monkeypatch.setattr(sync, "_users_write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _sync(account)
    assert gc.get_freeze_count() == 0
    run = SyncRun.objects.get(account=account)
    assert run.status == SyncStatus.FAILED
    assert "internal error" in run.error
    account.refresh_from_db()
    assert account.last_synced_at is None


def test_second_sync_without_changes_writes_nothing(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    _sandbox, account = seeded
    first = _sync(account)
    stamps = dict(DirectoryUser.objects.filter(account=account).values_list("zoom_id", "mirror_updated_at"))
    second = _sync(account)
    assert second.status == SyncStatus.SUCCEEDED, second.error
    assert second.generation == first.generation + 1
    assert second.rows_written == 0
    assert dict(DirectoryUser.objects.filter(account=account).values_list("zoom_id", "mirror_updated_at")) == stamps
    assert not DirectoryUser.objects.filter(account=account, updated_generation=second.generation).exists()


def test_changes_deletions_and_membership_moves(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    sandbox, account = seeded
    _sync(account)
    members = SandboxUser.objects.filter(account=sandbox, role=Role.MEMBER).order_by("id")
    gone, changed, moved = members[0], members[1], members[2]
    gone_id = gone.zoom_id
    gone.delete()
    changed.department = "Renamed department"
    changed.last_modified = timezone.now()
    changed.save()
    group = SandboxGroup.objects.filter(account=sandbox, is_default=False).exclude(members=moved).first()
    assert group is not None
    group.members.add(moved)
    SandboxGroup.objects.filter(account=sandbox, is_default=False).exclude(pk=group.pk).first().members.clear()  # type: ignore[union-attr]

    run = _sync(account)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.users_removed == 1
    assert run.users_updated == 1
    assert not DirectoryUser.objects.filter(account=account, zoom_id=gone_id).exists()
    row = DirectoryUser.objects.get(account=account, zoom_id=changed.zoom_id)
    assert row.department == "Renamed department"
    assert row.updated_generation == run.generation
    assert row.enrichment_due
    assert _mirror_pairs(account) == _sandbox_pairs(sandbox)
    for mirrored in DirectoryGroup.objects.filter(account=account):
        assert mirrored.member_count == SandboxGroup.objects.get(zoom_id=mirrored.zoom_id).members.count()


def test_failed_pass_removes_nothing_and_says_why(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    sandbox, account = seeded
    good = _sync(account)
    SandboxUser.objects.filter(account=sandbox, role=Role.MEMBER).order_by("id").first().delete()  # type: ignore[union-attr]
    sandbox.error_rate = 1.0
    sandbox.save()

    run = _sync(account)
    assert run.status == SyncStatus.FAILED
    assert "server error" in run.error  # Zoom's failure, as the client words it for admins
    assert DirectoryUser.objects.filter(account=account).count() == USERS
    account.refresh_from_db()
    assert account.last_synced_at == good.finished_at
    fresh = sync_freshness(account=account)
    assert fresh.failed == run
    assert fresh.last_success == good


def test_nobody_signed_in_fails_with_who_must_sign_in(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    _sandbox, account = seeded
    ZoomConnection.objects.filter(account=account).update(status="needs_reauth")
    run = _sync(account)
    assert run.status == SyncStatus.FAILED
    assert "must sign in with Zoom again" in run.error


# --- Zoom changing underneath the pass --------------------------------------------------------

_after_request: list[Callable[[httpx2.Request], None]] = []


class _HookedTransport(httpx2.BaseTransport):
    """The sandbox, plus a change to its data right after a chosen request was answered."""

    def __init__(self) -> None:
        self.inner = sandbox_transport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        for hook in list(_after_request):
            hook(request)
        return response


def hooked_transport() -> httpx2.BaseTransport:
    return _HookedTransport()


@pytest.fixture
def hooked(settings: Any) -> Iterator[list[Callable[[httpx2.Request], None]]]:
    settings.ZOOM_HTTP_TRANSPORT = f"{__name__}.hooked_transport"
    settings.DIRECTORY_SYNC_CONCURRENCY = 1  # pages in order, so the shift lands where the test says
    yield _after_request
    _after_request.clear()


def test_users_shifting_mid_sync_are_neither_lost_nor_duplicated(
    seeded: tuple[SandboxAccount, ZoomAccount],
    hooked: list[Callable[[httpx2.Request], None]],
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    sandbox, account = seeded
    _sync(account)
    ordered = list(SandboxUser.objects.filter(account=sandbox).order_by("id"))
    early = next(user for user in ordered[:100] if user.role == Role.MEMBER)
    # Deleting an early user after page 1 shifts everyone left by one: the first user of page 2
    # slides onto page 1, which was already read, and a plain offset walk would never see them.
    skipped = ordered[100]
    done: list[bool] = []

    def shift(request: httpx2.Request) -> None:
        if done or request.url.path != "/scim2/Users" or request.url.params.get("startIndex") != "1":
            return
        done.append(True)
        early.delete()
        make_sandbox_user(sandbox, user_name="newcomer@sync.example.com")

    hooked.append(shift)
    run = _sync(account)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    zoom_ids = list(DirectoryUser.objects.filter(account=account).values_list("zoom_id", flat=True))
    assert len(zoom_ids) == len(set(zoom_ids))
    # The skipped user was not seen, so Zoom was asked before removing: they are still there.
    assert skipped.zoom_id in zoom_ids
    assert DirectoryUser.objects.filter(account=account, email="newcomer@sync.example.com").exists()
    # The deleted user was read before Zoom deleted them: the next pass removes them.
    assert early.zoom_id in zoom_ids
    _sync(account)
    assert set(DirectoryUser.objects.filter(account=account).values_list("zoom_id", flat=True)) == set(
        SandboxUser.objects.filter(account=sandbox).values_list("zoom_id", flat=True)
    )


def test_inserts_shift_users_into_the_next_page_seen_once(
    seeded: tuple[SandboxAccount, ZoomAccount],
    hooked: list[Callable[[httpx2.Request], None]],
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    sandbox, account = seeded
    # Zoom's order is the sandbox's id order; a user given a low id lands at the start and pushes
    # everyone one place right: the last user of page 1 is served again on page 2.
    lowest = SandboxUser.objects.filter(account=sandbox).order_by("id").first()
    assert lowest is not None
    done: list[bool] = []

    def insert_first(request: httpx2.Request) -> None:
        if done or request.url.params.get("startIndex") != "1" or request.url.path != "/scim2/Users":
            return
        done.append(True)
        moved = SandboxUser.objects.get(pk=lowest.pk)
        moved.pk = None
        moved.id = None
        moved.zoom_id = "inserted-first-user-id"
        moved.user_name = "first@sync.example.com"
        moved.employee_number = "E-FIRST"
        moved.save()
        SandboxUser.objects.filter(pk=moved.pk).update(id=-1)

    hooked.append(insert_first)
    run = _sync(account)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    zoom_ids = list(DirectoryUser.objects.filter(account=account).values_list("zoom_id", flat=True))
    assert len(zoom_ids) == len(set(zoom_ids)) == USERS  # the repeated user stored once
    again = _sync(account)
    assert set(DirectoryUser.objects.filter(account=account).values_list("zoom_id", flat=True)) == set(
        SandboxUser.objects.filter(account=sandbox).values_list("zoom_id", flat=True)
    )
    assert again.users_created == 1


# --- one sync per account -------------------------------------------------------------------


def test_requests_join_the_active_sync(seeded: tuple[SandboxAccount, ZoomAccount], django_user_model: Any) -> None:
    _sandbox, account = seeded
    person = django_user_model.objects.create(username="clicker")
    first = sync_request(account=account, requested_by=person)
    second = sync_request(account=account)
    assert second.pk == first.pk
    assert second.requested_by_id == person.pk
    assert SyncRun.objects.filter(account=account).count() == 1
    running = sync_freshness(account=account).running
    assert running is not None
    assert running.pk == first.pk

    sync_execute(run_id=first.pk)
    # A duplicate message for a finished run does nothing.
    assert sync_execute(run_id=first.pk).status == SyncStatus.SUCCEEDED
    third = sync_request(account=account)
    assert third.pk != first.pk
    assert third.generation == 2


def test_periodic_sync_requests_only_stale_accounts(seeded: tuple[SandboxAccount, ZoomAccount], settings: Any) -> None:
    _sandbox, account = seeded
    settings.DIRECTORY_SYNC_INTERVAL_MINUTES = 60
    assert syncs_periodic() == 1
    assert syncs_periodic() == 0  # joins nothing new while one is queued
    run = SyncRun.objects.get(account=account)
    sync_execute(run_id=run.pk)
    assert syncs_periodic() == 0
    assert syncs_periodic(now=timezone.now() + timedelta(minutes=61)) == 1


def test_sweeper_fails_a_sync_whose_worker_died(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    _sandbox, account = seeded
    run = sync_request(account=account)
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert syncs_stalled_resume() == 1
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert "next sync starts over" in run.error
    assert sync_request(account=account).generation == run.generation + 1


def test_pending_status_survives_a_sync(seeded: tuple[SandboxAccount, ZoomAccount]) -> None:
    sandbox, account = seeded
    _sync(account)
    pending = SandboxUser.objects.filter(account=sandbox, status="pending").first()
    assert pending is not None
    row = DirectoryUser.objects.get(account=account, zoom_id=pending.zoom_id)
    assert row.status == UserStatus.INACTIVE
    assert not row.active
    DirectoryUser.objects.filter(pk=row.pk).update(status=UserStatus.PENDING, payload_hash="")
    _sync(account)
    row.refresh_from_db()
    assert row.status == UserStatus.PENDING
