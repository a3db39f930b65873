"""The plan of a CSV file against the directory mirror: every outcome, its reason, the totals."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from tests.imports import plan_fixtures
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.models import DirectoryUser
from zoomadmin.imports.models import Action, ChangeSet, GroupChange, Outcome, RowState
from zoomadmin.imports.plan import NEVER_SYNCED, PlanRefused, import_plan, plan_summary
from zoomadmin.sandbox.models import SandboxUser

pytestmark = pytest.mark.django_db(transaction=True)

# The synced account A and admin A's connection (a fixture shared by the plan tests).
connection = plan_fixtures.connection
CORPUS = plan_fixtures.CORPUS


def _plan(connection: ZoomConnection, name: str, **kwargs: bool) -> ChangeSet:
    with (CORPUS / name).open("rb") as binary:
        return import_plan(
            account=connection.account,
            connection=connection,
            binary=binary,
            file_name=name,
            keep_upload=False,
            **kwargs,
        )


def test_every_outcome_of_a_corpus_file(connection: ZoomConnection) -> None:
    change_set = _plan(connection, "every_outcome.csv")

    assert change_set.totals == {
        Outcome.CREATE: 1,
        Outcome.UPDATE: 1,
        Outcome.UNCHANGED: 2,
        Outcome.REACTIVATE: 1,
        Outcome.DEACTIVATE: 1,
        Outcome.DELETE: 1,
        Outcome.BLOCKED: 3,
        Outcome.ERROR: 7,
    }
    rows = {row.line: row for row in change_set.rows.all()}
    assert rows[2].planned == Outcome.CREATE
    assert rows[2].after == {"first_name": "New", "last_name": "Person", "department": "Sales"}
    assert list(GroupChange.objects.filter(row=rows[2]).values_list("op", "group_name")) == [("add", "Sales")]
    assert rows[3].planned == Outcome.UPDATE
    assert rows[3].planned_before == {"department": ""}
    assert "department: “—” → “Marketing”" in rows[3].planned_reason
    # Already in Sales (the file says "sales"), names and department as they are: nothing to do.
    assert rows[4].planned == Outcome.UNCHANGED
    assert rows[4].state == RowState.SKIPPED
    assert rows[5].planned == Outcome.REACTIVATE
    assert rows[6].planned == Outcome.DEACTIVATE
    assert rows[7].planned == Outcome.UNCHANGED
    assert "nothing to delete" in rows[7].planned_reason
    assert rows[8].planned == Outcome.BLOCKED
    assert "Owner role" in rows[8].planned_reason
    assert rows[9].planned == Outcome.BLOCKED
    assert "Admin role" in rows[9].planned_reason
    assert rows[10].planned == Outcome.BLOCKED
    assert "not accepted Zoom's invitation" in rows[10].planned_reason
    # The intake's duplicate check comes first: invited@ is on line 10 already.
    assert rows[11].planned == Outcome.ERROR
    assert "already on line 10" in rows[11].planned_reason
    assert rows[12].planned == Outcome.ERROR
    assert "use the action create or upsert" in rows[12].planned_reason
    assert rows[13].planned == Outcome.ERROR
    assert (
        rows[13].planned_reason == "Creating a user needs a first name and a last name, which this line leaves empty."
    )
    assert rows[14].planned == Outcome.ERROR
    assert "No group named “Nowhere”" in rows[14].planned_reason
    assert rows[15].planned == Outcome.ERROR
    assert "not a valid email address" in rows[15].planned_reason
    assert rows[16].planned == Outcome.ERROR
    assert rows[17].planned == Outcome.ERROR
    # Line 17 (create member@) is a duplicate of line 3 before it could be "already exists".
    assert "already on line 3" in rows[17].planned_reason
    assert rows[18].planned == Outcome.DELETE
    assert rows[18].zoom_id
    assert change_set.removals == 2
    assert change_set.active_users == DirectoryUser.objects.filter(account=connection.account, active=True).count()


def test_create_of_an_existing_user_and_group_joins_only(connection: ZoomConnection) -> None:
    data = (
        b"Email,First Name,Last Name,Groups,Action\n"
        b"member@acme.example.com,A,B,,create\n"
        b"member2@acme.example.com,,,Sales,\n"
        b"brand.new@acme.example.com,Brand,New,Nowhere,\n"
    )
    change_set = import_plan(
        account=connection.account,
        connection=connection,
        binary=io.BytesIO(data),
        file_name="x.csv",
        create_missing_groups=True,
        keep_upload=False,
    )
    rows = {row.line: row for row in change_set.rows.all()}
    assert rows[2].planned == Outcome.ERROR
    assert "already has a Zoom user" in rows[2].planned_reason
    # Only a membership changes: no profile write, the user's id is known from the mirror.
    assert rows[3].planned == Outcome.UPDATE
    assert rows[3].action == Action.ADD_TO_GROUP
    assert rows[3].zoom_id
    assert "joins “Sales”" in rows[3].planned_reason
    # Missing groups are created by the job when the admin asked for it.
    assert rows[4].planned == Outcome.CREATE
    assert list(GroupChange.objects.filter(row=rows[4]).values_list("group_name", flat=True)) == ["Nowhere"]


def test_pending_user_update_is_blocked(connection: ZoomConnection) -> None:
    summary = plan_summary(
        account=connection.account,
        binary=io.BytesIO(b"Email,Department\ninvited@acme.example.com,Legal\nmember@acme.example.com,\n"),
    )
    assert dict(summary.outcomes) == {Outcome.BLOCKED: 1, Outcome.UNCHANGED: 1}
    assert summary.valid == 2


def test_a_never_synced_mirror_refuses_to_plan(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a)
    ZoomAccount.objects.filter(pk=connection.account_id).update(last_synced_at=None)
    connection.account.refresh_from_db()
    with pytest.raises(PlanRefused) as refused:
        import_plan(
            account=connection.account,
            connection=connection,
            binary=io.BytesIO(b"Email\nx@acme.example.com\n"),
            file_name="x.csv",
        )
    assert refused.value.message == NEVER_SYNCED
    assert "sync the directory first" in NEVER_SYNCED
    assert not ChangeSet.objects.exists()


def test_a_refused_file_stores_nothing(connection: ZoomConnection) -> None:
    with pytest.raises(PlanRefused) as refused:
        import_plan(
            account=connection.account,
            connection=connection,
            binary=io.BytesIO(b"Name,Department\nA,B\n"),
            file_name="x.csv",
        )
    assert "no email column" in refused.value.message
    assert not ChangeSet.objects.exists()


def test_lookups_are_chunked_not_per_row(
    connection: ZoomConnection, django_assert_max_num_queries: Callable[..., object]
) -> None:
    lines = [b"Email,First Name,Last Name"] + [f"p{i}@acme.example.com,P{i},Person".encode() for i in range(2500)]
    with django_assert_max_num_queries(40):  # type: ignore[operator]
        summary = plan_summary(account=connection.account, binary=io.BytesIO(b"\n".join(lines)))
    assert summary.outcomes == {Outcome.CREATE: 2500}
