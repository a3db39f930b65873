"""Enrichment: the Get-user-only fields are filled in the background, within half the Light budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.enrich import enrich_batch, enrichment_budget, enrichment_limiter, enrichment_pending_count
from zoomadmin.directory.models import DirectoryUser, SyncRun, UserStatus
from zoomadmin.directory.services import sync_request
from zoomadmin.directory.sync import sync_execute
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxUser
from zoomadmin.sandbox.models import UserStatus as SandboxStatus

pytestmark = pytest.mark.django_db(transaction=True)


class FrozenClock:
    """Time stands still: the limiter grants exactly one window's budget, then refuses."""

    def __init__(self) -> None:
        self.moment = 2_000_000_000.0

    def now(self) -> float:
        return self.moment

    def sleep(self, seconds: float) -> None:
        raise AssertionError("enrichment must not sleep on a refused slot it cannot get in time")


def _synced(sandbox: SandboxAccount, connection: ZoomConnection) -> ZoomAccount:
    run = sync_execute(run_id=sync_request(account=connection.account).pk)
    assert run.error == ""
    return connection.account


def test_enrichment_fills_licenses_manager_and_pending(
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
    stored_connection: Callable[..., ZoomConnection],
) -> None:
    licensed = make_sandbox_user(
        sandbox_account,
        user_type="Licensed",
        title="Engineer",
        organization="Acme",
        cost_center="CC-7",
        manager="owner@acme.example.com",
        phone_numbers=[{"type": "work", "value": "+1 555 0100"}],
        zoom_extension={"zoomWhiteboard": True, "zoomHuddles": False, "pronouns": "she/her"},
    )
    invited = make_sandbox_user(sandbox_account, status=SandboxStatus.PENDING)
    deactivated = make_sandbox_user(sandbox_account, status=SandboxStatus.INACTIVE)
    account = _synced(sandbox_account, stored_connection(sandbox_owner))
    assert enrichment_pending_count(account=account) == 4

    result = enrich_batch(account=account)
    assert (result.enriched, result.remaining, result.retry_after) == (4, 0, None)
    assert enrichment_pending_count(account=account) == 0
    row = DirectoryUser.objects.get(account=account, zoom_id=licensed.zoom_id)
    assert row.licenses == {"zoomWhiteboard": True, "zoomHuddles": False}
    assert (row.title, row.organization, row.cost_center, row.manager, row.pronouns) == (
        "Engineer",
        "Acme",
        "CC-7",
        "owner@acme.example.com",
        "she/her",
    )
    assert row.phone_numbers == [{"type": "work", "value": "+1 555 0100"}]
    assert row.enriched_at is not None
    assert not row.enrichment_due
    # Zoom refuses `userName eq` for an invited user: that is how pending is told from deactivated.
    assert DirectoryUser.objects.get(account=account, zoom_id=invited.zoom_id).status == UserStatus.PENDING
    assert DirectoryUser.objects.get(account=account, zoom_id=deactivated.zoom_id).status == UserStatus.INACTIVE

    # Enrichment is not a change in Zoom: the next pass writes nothing, and pending stays pending.
    again = sync_execute(run_id=sync_request(account=account).pk)
    assert again.rows_written == 0
    assert DirectoryUser.objects.get(account=account, zoom_id=invited.zoom_id).status == UserStatus.PENDING
    assert DirectoryUser.objects.get(account=account, zoom_id=licensed.zoom_id).licenses == row.licenses


def test_enrichment_takes_at_most_half_the_light_budget(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    stored_connection: Callable[..., ZoomConnection],
) -> None:
    sandbox = make_sandbox_account(name="Budget Corp", vanity_domain="budget.example.com")
    owner = make_sandbox_user(sandbox, role=Role.OWNER)
    for _ in range(99):
        make_sandbox_user(sandbox)
    account = _synced(sandbox, stored_connection(owner))
    budget = enrichment_budget(account=account)
    # Business: 80 Light requests/s; our share 0.8 gives 64; enrichment gets half of that.
    assert (account.plan, budget.per_window) == ("business", 32)

    result = enrich_batch(account=account, limiter=enrichment_limiter(clock=FrozenClock()), seconds=0.5)
    assert result.enriched == budget.per_window
    assert result.remaining == 100 - budget.per_window
    assert result.retry_after is not None
    assert result.retry_after > 0
    # The most recently changed users in Zoom went first.
    enriched = DirectoryUser.objects.filter(account=account, enriched_at__isnull=False)
    waiting = DirectoryUser.objects.filter(account=account, enriched_at__isnull=True)
    assert min(u.zoom_modified_at for u in enriched) >= max(u.zoom_modified_at for u in waiting)  # type: ignore[type-var]


def test_a_user_gone_from_zoom_leaves_the_mirror(
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    sandbox_member: SandboxUser,
    stored_connection: Callable[..., ZoomConnection],
) -> None:
    account = _synced(sandbox_account, stored_connection(sandbox_owner))
    sandbox_member.delete()
    result = enrich_batch(account=account)
    assert result.removed == 1
    assert not DirectoryUser.objects.filter(account=account, zoom_id=sandbox_member.zoom_id).exists()
    assert SyncRun.objects.filter(account=account).count() == 1
