"""The job engine against the in-process sandbox: outcomes, exactly once, reconcile, faults, pause/resume/cancel.

The engine applies rows from a pool of threads, each with its own database connection, so these
tests commit (`transaction=True`): a thread cannot see a test's uncommitted rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.imports.support import change_set_of, create_specs, run_to_end
from zoomadmin.accounts.models import ConnectionStatus, ZoomConnection
from zoomadmin.audit.models import AuditEvent
from zoomadmin.imports import engine
from zoomadmin.imports.models import Action, ChangeRow, ChangeSet, GroupOp, JobStatus, Outcome, RowState
from zoomadmin.imports.services import (
    JobRefused,
    RowSpec,
    job_cancel,
    job_pause,
    job_resume,
    job_start,
    jobs_sweep,
    results_csv,
)
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser, UserStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connection(stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser) -> ZoomConnection:
    return stored_connection(admin_a)


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real backoff is seconds to minutes; the sequence of decisions is what these tests check.
    monkeypatch.setattr(engine, "BACKOFF_BASE_SECONDS", 0.05)


def users_named(account: SandboxAccount, email: str) -> int:
    return SandboxUser.objects.filter(account=account, user_name__iexact=email).count()


def test_a_job_applies_each_kind_of_row_and_records_it(
    connection: ZoomConnection, account_a: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    old = make_sandbox_user(account_a, title="Intern")
    leaving = make_sandbox_user(account_a)
    back = make_sandbox_user(account_a, status=UserStatus.INACTIVE)
    gone = make_sandbox_user(account_a)
    specs = [
        *create_specs("acme.example.com", 2),
        RowSpec(line=4, action=Action.UPDATE, email=old.user_name, planned=Outcome.UPDATE, after={"title": "Lead"}),
        RowSpec(line=5, action=Action.DEACTIVATE, email=leaving.user_name, planned=Outcome.DEACTIVATE),
        RowSpec(line=6, action=Action.REACTIVATE, email=back.user_name, planned=Outcome.REACTIVATE),
        RowSpec(line=7, action=Action.DELETE, email=gone.user_name, planned=Outcome.DELETE, zoom_id=gone.zoom_id),
        RowSpec(line=8, action=Action.UPDATE, email="x@acme.example.com", planned=Outcome.ERROR, reason="Bad email."),
    ]
    change_set = change_set_of(connection, specs)
    assert change_set.totals == {"create": 2, "update": 1, "deactivate": 1, "reactivate": 1, "delete": 1, "error": 1}

    job_start(change_set=change_set, connection=connection)
    change_set = run_to_end(change_set)

    assert change_set.status == JobStatus.FINISHED
    assert users_named(account_a, "new0@acme.example.com") == 1
    old.refresh_from_db()
    leaving.refresh_from_db()
    back.refresh_from_db()
    assert old.title == "Lead"
    assert leaving.status == UserStatus.INACTIVE
    assert back.status == UserStatus.ACTIVE
    assert not SandboxUser.objects.filter(pk=gone.pk).exists()
    rows = {row.line: row for row in change_set.rows.all()}
    assert rows[2].result == Outcome.CREATE
    assert rows[2].zoom_id
    assert rows[4].before == {"title": "Intern"}
    assert rows[4].changed == {"title": ["Intern", "Lead"]}
    assert rows[7].before is not None
    assert rows[7].before["email"] == gone.user_name
    assert (rows[8].state, rows[8].message) == (RowState.SKIPPED, "Bad email.")
    # One audit event per change, linked to the job and its line.
    events = AuditEvent.objects.filter(job_id=change_set.pk)
    assert sorted(events.values_list("job_row", flat=True)) == [2, 3, 4, 5, 6, 7]
    assert events.get(job_row=4).changes == {"title": ["Intern", "Lead"]}


def test_a_create_that_meets_an_existing_user_becomes_the_update(
    connection: ZoomConnection, account_a: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    existing = make_sandbox_user(account_a, user_name="new0@acme.example.com", title="Intern")
    change_set = change_set_of(connection, create_specs("acme.example.com", 1, title="Lead"))
    job_start(change_set=change_set, connection=connection)
    change_set = run_to_end(change_set)

    row = change_set.rows.get()
    assert (row.state, row.result, row.zoom_id) == (RowState.DONE, Outcome.UPDATE, existing.zoom_id)
    assert row.changed["title"] == ["Intern", "Lead"]
    assert users_named(account_a, existing.user_name) == 1
    existing.refresh_from_db()
    assert existing.title == "Lead"


def test_two_claimers_never_share_a_row(connection: ZoomConnection) -> None:
    change_set = change_set_of(connection, create_specs("acme.example.com", 30))
    job_start(change_set=change_set, connection=connection)
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def claim(owner: str) -> None:
        barrier.wait()
        mine: list[int] = []
        while rows := engine.rows_claim(change_set_id=change_set.pk, owner=owner, limit=3):
            mine += [row.pk for row in rows]
        claimed[owner] = mine
        from django.db import connection as db

        db.close()

    threads = [threading.Thread(target=claim, args=(owner,)) for owner in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claimed["one"]) & set(claimed["two"])
    assert len(claimed["one"]) + len(claimed["two"]) == 30


def test_two_workers_on_one_job_create_each_user_once(connection: ZoomConnection, account_a: SandboxAccount) -> None:
    change_set = change_set_of(connection, create_specs("acme.example.com", 40))
    job_start(change_set=change_set, connection=connection)
    errors: list[Exception] = []

    def work() -> None:
        try:
            run_to_end(ChangeSet.objects.get(pk=change_set.pk))
        except Exception as exc:  # noqa: BLE001 (any failure is reported below, in the test's thread)
            errors.append(exc)
        finally:
            from django.db import connection as db

            db.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    change_set.refresh_from_db()
    assert change_set.status == JobStatus.FINISHED
    assert SandboxUser.objects.filter(account=account_a, user_name__startswith="new").count() == 40
    assert change_set.rows.filter(state=RowState.DONE, result=Outcome.CREATE).count() == 40
    assert AuditEvent.objects.filter(job_id=change_set.pk).count() == 40


def test_an_expired_lease_is_reconciled_with_zoom_before_anything_is_sent_again(
    connection: ZoomConnection, account_a: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    change_set = change_set_of(connection, create_specs("acme.example.com", 4))
    job_start(change_set=change_set, connection=connection)
    # A worker claims every row, sends the first two creates, and dies before storing anything.
    dead = engine.rows_claim(change_set_id=change_set.pk, owner="dead-worker", limit=10)
    assert len(dead) == 4
    for row in dead[:2]:
        make_sandbox_user(account_a, user_name=row.email, given_name=row.after["first_name"], family_name="Person")
    ChangeRow.objects.filter(change_set=change_set).update(lease_expires=timezone.now() - timedelta(seconds=1))

    change_set = run_to_end(change_set)

    assert change_set.status == JobStatus.FINISHED
    for row in change_set.rows.all():
        assert users_named(account_a, row.email) == 1
        assert (row.state, row.result) == (RowState.DONE, Outcome.CREATE)
    reconciled = change_set.rows.filter(message__contains="confirmed with Zoom")
    assert sorted(reconciled.values_list("line", flat=True)) == [2, 3]
    # The dead worker can no longer store anything over the new owner's outcome.
    assert not engine.row_store(
        change_set=change_set,
        work=engine.RowWork.of(dead[0]),
        owner="dead-worker",
        applied=engine.Applied(state=RowState.FAILED, result=Outcome.FAILED, message="late"),
    )


def test_unknown_outcomes_and_server_errors_are_retried_until_every_row_is_done_once(
    connection: ZoomConnection, account_a: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 504 after hanging (0 s here) answers a write with OutcomeUnknown; 5xx is Unavailable. With 40 %
    # of requests failing, six attempts would give up on a row now and then: allow more here. And
    # shorter backoffs: at the real ones (2 s doubling), a row failing six times in a row (0.4 % of
    # rows, so one run in ten of 25 rows) waits 126 s, past run_to_end's limit.
    monkeypatch.setattr(engine, "MAX_ATTEMPTS", 30)
    monkeypatch.setattr(engine, "BACKOFF_BASE_SECONDS", 0.05)
    monkeypatch.setattr(engine, "BACKOFF_MAX_SECONDS", 0.5)
    SandboxAccount.objects.filter(pk=account_a.pk).update(timeout_rate=0.2, error_rate=0.2, timeout_hang_seconds=0)
    change_set = change_set_of(connection, create_specs("acme.example.com", 25))
    job_start(change_set=change_set, connection=connection)
    change_set = run_to_end(change_set)
    SandboxAccount.objects.filter(pk=account_a.pk).update(timeout_rate=0, error_rate=0)

    assert change_set.status == JobStatus.FINISHED
    assert SandboxUser.objects.filter(account=account_a, user_name__startswith="new").count() == 25
    assert change_set.rows.filter(state=RowState.DONE).count() == 25
    # Some rows needed more than one attempt (with 40 % of requests failing, all 25 at once is 1e-5).
    assert change_set.rows.filter(attempts__gt=1).exists()


def test_zoom_429s_are_waited_out_and_nothing_is_duplicated(
    connection: ZoomConnection, account_a: SandboxAccount
) -> None:
    # Zoom (the sandbox) allows Free's 4 Light requests a second; our limiter believes in Business's 64.
    SandboxAccount.objects.filter(pk=account_a.pk).update(plan="free", rate_limits_enabled=True)
    change_set = change_set_of(connection, create_specs("acme.example.com", 12))
    job_start(change_set=change_set, connection=connection)
    change_set = run_to_end(change_set)
    SandboxAccount.objects.filter(pk=account_a.pk).update(rate_limits_enabled=False)

    assert change_set.status == JobStatus.FINISHED
    assert SandboxUser.objects.filter(account=account_a, user_name__startswith="new").count() == 12
    assert change_set.rows.filter(state=RowState.DONE, result=Outcome.CREATE).count() == 12


def test_a_refused_row_fails_with_zooms_sentence_and_the_job_goes_on(
    connection: ZoomConnection, account_a: SandboxAccount, sandbox_owner: SandboxUser
) -> None:
    specs = [
        RowSpec(
            line=2,
            action=Action.DEACTIVATE,
            email=sandbox_owner.user_name,
            zoom_id=sandbox_owner.zoom_id,
            planned=Outcome.DEACTIVATE,
        ),
        *create_specs("acme.example.com", 2, start=3),
    ]
    change_set = change_set_of(connection, specs)
    job_start(change_set=change_set, connection=connection)
    change_set = run_to_end(change_set)

    assert change_set.status == JobStatus.FINISHED
    refused = change_set.rows.get(line=2)
    assert refused.state == RowState.FAILED
    assert refused.zoom_status == 400
    assert refused.message.startswith("Zoom rejected the request")
    assert change_set.rows.filter(state=RowState.DONE).count() == 2
    sandbox_owner.refresh_from_db()
    assert sandbox_owner.status == UserStatus.ACTIVE
    assert "Zoom rejected the request" in "".join(results_csv(change_set))


def test_memberships_go_out_per_group_after_their_users(connection: ZoomConnection, account_a: SandboxAccount) -> None:
    sales = SandboxGroup.objects.create(account=account_a, display_name="Sales")
    specs = create_specs("acme.example.com", 5)
    for spec in specs:
        spec.groups = [(GroupOp.ADD, "Sales"), (GroupOp.ADD, "Nowhere")]
    change_set = change_set_of(connection, specs)
    job_start(change_set=change_set, connection=connection)
    change_set = run_to_end(change_set)

    assert sorted(sales.members.values_list("user_name", flat=True)) == sorted(spec.email for spec in specs)
    assert change_set.group_changes.filter(group_name="Sales", state=RowState.DONE).count() == 5
    missing = change_set.group_changes.filter(group_name="Nowhere").first()
    assert missing is not None
    assert missing.state == RowState.FAILED
    assert "no group named “Nowhere”" in missing.message
    assert AuditEvent.objects.filter(job_id=change_set.pk, action="group.add_members").count() == 5


def test_missing_groups_are_created_when_asked(connection: ZoomConnection, account_a: SandboxAccount) -> None:
    specs = create_specs("acme.example.com", 2)
    for spec in specs:
        spec.groups = [(GroupOp.ADD, "Brand new")]
    change_set = change_set_of(connection, specs, create_missing_groups=True)
    job_start(change_set=change_set, connection=connection)
    run_to_end(change_set)
    group = SandboxGroup.objects.get(account=account_a, display_name="Brand new")
    assert group.members.count() == 2


def test_pause_resume_and_cancel(connection: ZoomConnection, account_a: SandboxAccount) -> None:
    change_set = change_set_of(connection, create_specs("acme.example.com", 6))
    job_start(change_set=change_set, connection=connection)
    job_pause(change_set=change_set, connection=connection)
    assert engine.job_work(change_set.pk).applied == 0
    change_set.refresh_from_db()
    assert change_set.status == JobStatus.PAUSED
    assert change_set.status_message.startswith("Paused by")
    assert not SandboxUser.objects.filter(account=account_a, user_name__startswith="new").exists()

    job_resume(change_set=change_set, connection=connection)
    # A worker is applying two rows when the admin cancels: those finish, the other four never start.
    in_flight = engine.rows_claim(change_set_id=change_set.pk, owner="worker", limit=2)
    job_cancel(change_set=change_set, connection=connection)
    change_set.refresh_from_db()
    assert change_set.status == JobStatus.CANCELLED
    assert change_set.rows.filter(state=RowState.SKIPPED, result=Outcome.NOT_APPLIED).count() == 4
    assert engine.job_work(change_set.pk).applied == 0
    for row in in_flight:
        done = engine.Applied(state=RowState.DONE, result=Outcome.CREATE, zoom_id="z", message="Created.")
        assert engine.row_store(change_set=change_set, work=engine.RowWork.of(row), owner="worker", applied=done)
    assert change_set.rows.filter(state=RowState.DONE).count() == 2
    with pytest.raises(JobRefused):
        job_resume(change_set=change_set, connection=connection)


def test_a_refused_sign_in_pauses_the_job_until_the_admin_signs_in_again(
    connection: ZoomConnection, account_a: SandboxAccount
) -> None:
    change_set = change_set_of(connection, create_specs("acme.example.com", 3))
    job_start(change_set=change_set, connection=connection)
    ZoomConnection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.NEEDS_REAUTH)

    change_set = run_to_end(change_set)
    assert change_set.status == JobStatus.PAUSED
    assert change_set.paused_for_signin
    assert f"Zoom no longer accepts the sign-in of {connection.zoom_email}" in change_set.status_message
    assert jobs_sweep() == []

    ZoomConnection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE)
    assert jobs_sweep() == [change_set.pk]
    change_set = run_to_end(change_set)
    assert change_set.status == JobStatus.FINISHED
    assert SandboxUser.objects.filter(account=account_a, user_name__startswith="new").count() == 3


def test_the_sweeper_restarts_a_job_nobody_advances(connection: ZoomConnection, settings: Any) -> None:
    settings.IMPORTS_STALL_SECONDS = 5
    change_set = change_set_of(connection, create_specs("acme.example.com", 2))
    job_start(change_set=change_set, connection=connection)
    assert jobs_sweep() == []
    ChangeSet.objects.filter(pk=change_set.pk).update(progress_at=timezone.now() - timedelta(seconds=60))
    assert jobs_sweep() == [change_set.pk]
    # Restarting counts as progress: the next beat leaves it to the chunks just queued.
    assert jobs_sweep() == []


def test_the_safeguard_needs_the_number_typed(connection: ZoomConnection, sandbox_member: SandboxUser) -> None:
    spec = RowSpec(line=2, action=Action.DEACTIVATE, email=sandbox_member.user_name, planned=Outcome.DEACTIVATE)
    change_set = change_set_of(connection, [spec], active_users=3)
    assert change_set.safeguard_required
    assert change_set.removals == 1
    with pytest.raises(JobRefused, match="Type 1 to confirm"):
        job_start(change_set=change_set, connection=connection)
    job_start(change_set=change_set, connection=connection, typed_count=1)
    assert run_to_end(change_set).status == JobStatus.FINISHED


def test_results_csv_neutralises_formulas(connection: ZoomConnection, sandbox_owner: SandboxUser) -> None:
    spec = RowSpec(
        line=2,
        action=Action.UPDATE,
        email="=HYPERLINK(evil)",
        planned=Outcome.ERROR,
        reason="Not an email address.",
        cells=["=HYPERLINK(evil)", "+1", "@x", "-2"],
    )
    text = "".join(results_csv(change_set_of(connection, [spec])))
    header, line = text.splitlines()
    assert header.startswith("Email,First Name,Last Name,Job Title,zoomadmin_line,zoomadmin_outcome")
    assert line.startswith("'=HYPERLINK(evil),'+1,'@x,'-2,2,error,skipped,,Not an email address.")
