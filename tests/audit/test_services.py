"""Recording changes: success, Zoom's refusals and unknown outcomes, read from real sandbox answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditEvent, AuditResult, AuditSource, AuditTarget
from zoomadmin.audit.services import (
    INTERNAL_ERROR_MESSAGE,
    AuditEntry,
    audit_change,
    audit_for_target,
    audit_record,
    audit_record_many,
    changes_between,
)
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser
from zoomadmin.zoom.errors import Conflict, NotFound, OutcomeUnknown
from zoomadmin.zoom.models import user_build

pytestmark = pytest.mark.django_db


def _create_jill(connection: ZoomConnection) -> AuditEvent:
    with zoom_client(account=connection.account, acting_as=connection) as client:
        wanted = {"email": "jill@acme.example.com", "first_name": "Jill", "last_name": "Hill", "title": "Engineer"}
        with audit_change(
            account=connection.account,
            actor=connection,
            action=AuditAction.USER_CREATE,
            target_type=AuditTarget.USER,
            target_label=wanted["email"],
            after=wanted,
        ) as change:
            created = client.create_user(user_build(**wanted))
            change.after({**wanted, "email": created.email}, target_zoom_id=created.id or "")
    assert change.event is not None
    return change.event


def test_a_successful_change_records_who_what_and_zoom_id(connection_a: ZoomConnection) -> None:
    event = _create_jill(connection_a)

    event.refresh_from_db()
    jill = SandboxUser.objects.get(user_name="jill@acme.example.com")
    assert event.result == AuditResult.SUCCESS
    assert event.target_zoom_id == jill.zoom_id
    assert event.target_label == "jill@acme.example.com"
    assert event.changes == {
        "email": [None, "jill@acme.example.com"],
        "first_name": [None, "Jill"],
        "last_name": [None, "Hill"],
        "title": [None, "Engineer"],
    }
    assert event.account == connection_a.account
    assert event.account_zoom_id == connection_a.account.zoom_id
    assert event.person_id == connection_a.user_id
    assert (event.zoom_user_id, event.zoom_email) == (connection_a.zoom_user_id, connection_a.zoom_email)
    assert event.source == AuditSource.PAGE
    assert (event.zoom_status, event.zoom_message) == (None, "")


def test_a_refused_change_records_zooms_status_and_message_and_reraises(connection_a: ZoomConnection) -> None:
    _create_jill(connection_a)

    with pytest.raises(Conflict) as caught:
        _create_jill(connection_a)

    event = AuditEvent.objects.latest("id")
    assert event.result == AuditResult.FAILURE
    assert event.zoom_status == 409
    assert event.zoom_message == caught.value.message
    assert "conflicts with existing data" in event.zoom_message
    # A failure records what was attempted, and no Zoom id (none was given back).
    assert event.changes["title"] == [None, "Engineer"]
    assert event.target_zoom_id == ""


def test_a_change_to_a_missing_user_is_a_failure_with_404(connection_a: ZoomConnection) -> None:
    with (
        zoom_client(account=connection_a.account, acting_as=connection_a) as client,
        pytest.raises(NotFound),
        audit_change(
            account=connection_a.account,
            actor=connection_a,
            action=AuditAction.USER_DEACTIVATE,
            target_type=AuditTarget.USER,
            target_zoom_id="no-such-user",
            target_label="gone@acme.example.com",
            before={"active": True},
            after={"active": False},
        ),
    ):
        client.set_user_active("no-such-user", False)

    event = AuditEvent.objects.get()
    assert (event.result, event.zoom_status) == (AuditResult.FAILURE, 404)
    assert event.zoom_message.startswith("Zoom has no such user or group")
    assert event.changes == {"active": [True, False]}


def test_a_write_whose_outcome_is_unknown_is_recorded_as_unknown(
    connection_a: ZoomConnection, account_a: SandboxAccount
) -> None:
    # The sandbox's gateway answers 504 to every request: a create may or may not have happened.
    SandboxAccount.objects.filter(pk=account_a.pk).update(timeout_rate=1.0, timeout_hang_seconds=0)

    with pytest.raises(OutcomeUnknown) as caught:
        _create_jill(connection_a)

    event = AuditEvent.objects.get()
    assert event.result == AuditResult.UNKNOWN
    assert event.zoom_status == 504
    assert event.zoom_message == caught.value.message
    assert event.get_result_display() == "Outcome unknown"


def test_any_other_exception_is_an_unknown_outcome_and_reraised(connection_a: ZoomConnection) -> None:
    with (
        pytest.raises(KeyError),
        audit_change(
            account=connection_a.account,
            actor=connection_a,
            action=AuditAction.GROUP_RENAME,
            target_type=AuditTarget.GROUP,
            target_zoom_id="g-1",
            target_label="Sales",
            before={"name": "Sales"},
            after={"name": "Sales EMEA"},
        ),
    ):
        raise KeyError("bug after the call")

    event = AuditEvent.objects.get()
    assert event.result == AuditResult.UNKNOWN
    assert event.zoom_message == INTERNAL_ERROR_MESSAGE
    assert event.changes == {"name": ["Sales", "Sales EMEA"]}


def test_system_work_is_recorded_without_a_person(connection_a: ZoomConnection) -> None:
    event = audit_record(
        account=connection_a.account,
        actor=None,
        action=AuditAction.USER_UPDATE,
        target_type=AuditTarget.USER,
        target_zoom_id="u-1",
        target_label="jill@acme.example.com",
    )
    assert (event.source, event.person_id, event.zoom_email, event.who) == (AuditSource.SYSTEM, None, "", "zoomadmin")


def test_an_actor_of_another_account_is_refused(connection_a: ZoomConnection, connection_b: ZoomConnection) -> None:
    with pytest.raises(ValueError, match="another Zoom account"):
        audit_record(
            account=connection_a.account,
            actor=connection_b,
            action=AuditAction.USER_DELETE,
            target_type=AuditTarget.USER,
            target_zoom_id="u-1",
            target_label="x@acme.example.com",
        )
    assert not AuditEvent.objects.exists()


def test_the_trail_outlives_the_person_and_their_connection(
    connection_a: ZoomConnection, record: Callable[..., AuditEvent]
) -> None:
    event = record(connection_a)
    connection_a.delete()
    connection_a.user.delete()

    event.refresh_from_db()
    assert event.person_id is None
    assert event.zoom_email == "admin@acme.example.com"
    assert event.who == connection_a.zoom_display_name + " (admin@acme.example.com)"


def test_a_big_job_chunk_is_written_in_a_few_statements(
    connection_a: ZoomConnection, django_assert_max_num_queries: Any
) -> None:
    entries = [
        AuditEntry(
            action=AuditAction.USER_CREATE,
            target_type=AuditTarget.USER,
            target_zoom_id=f"u-{n}",
            target_label=f"user{n}@acme.example.com",
            changes=changes_between({}, {"email": f"user{n}@acme.example.com"}),
            error=Conflict("Zoom refused the change.", status=409) if n % 10 == 0 else None,
            job_row=n + 2,
        )
        for n in range(3000)
    ]
    with django_assert_max_num_queries(8):
        events = audit_record_many(account=connection_a.account, actor=connection_a, entries=entries, job_id=77)

    assert len(events) == 3000
    assert AuditEvent.objects.filter(job_id=77, source=AuditSource.JOB).count() == 3000
    failed = AuditEvent.objects.filter(job_id=77, result=AuditResult.FAILURE)
    assert failed.count() == 300
    assert set(failed.values_list("zoom_status", flat=True)) == {409}
    assert AuditEvent.objects.get(target_zoom_id="u-5").job_row == 7


def test_history_of_one_target_stays_in_its_account(
    connection_a: ZoomConnection, connection_b: ZoomConnection, record: Callable[..., AuditEvent]
) -> None:
    first = record(connection_a, target_zoom_id="u-1")
    second = record(connection_a, target_zoom_id="u-1", action=AuditAction.USER_DEACTIVATE)
    record(connection_a, target_zoom_id="u-2")
    record(connection_b, target_zoom_id="u-1")
    record(connection_a, target_zoom_id="u-1", target_type=AuditTarget.GROUP)

    history = list(audit_for_target(connection_a.account, AuditTarget.USER, "u-1"))
    assert history == [second, first]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"title": "A", "dept": "X"}, {"title": "B", "dept": "X"}, {"title": ["A", "B"]}),
        ({}, {"email": "a@x"}, {"email": [None, "a@x"]}),
        ({"email": "a@x"}, {}, {"email": ["a@x", None]}),
        ({"title": None}, {"title": ""}, {}),
        ({"active": True}, {"active": False}, {"active": [True, False]}),
        ({"groups": ["a"]}, {"groups": ["a", "b"]}, {"groups": [["a"], ["a", "b"]]}),
        ({"x": 1}, {"x": 1}, {}),
    ],
)
def test_changes_between(before: dict[str, Any], after: dict[str, Any], expected: dict[str, Any]) -> None:
    assert changes_between(before, after) == expected
