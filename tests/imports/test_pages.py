"""The job pages as an admin uses them: plan, start, progress polling, pause/resume/cancel, results, retry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.imports.support import change_set_of, create_specs, run_to_end
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.imports.models import Action, ChangeSet, JobStatus, Outcome
from zoomadmin.imports.services import RowSpec
from zoomadmin.sandbox.models import SandboxUser
from zoomadmin.spreadsheet import csv_cell

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(signed_in: Callable[..., Client], admin_a: SandboxUser) -> Client:
    return signed_in(admin_a)


@pytest.fixture
def connection(admin: Client, admin_a: SandboxUser) -> ZoomConnection:
    return ZoomConnection.objects.get(zoom_email=admin_a.user_name)


def test_plan_start_progress_results(admin: Client, connection: ZoomConnection, sandbox_owner: SandboxUser) -> None:
    specs = [
        *create_specs("acme.example.com", 3),
        RowSpec(
            line=5,
            action=Action.DEACTIVATE,
            email=sandbox_owner.user_name,
            planned=Outcome.BLOCKED,
            reason="Zoom does not let anyone deactivate the account's Owner.",
        ),
    ]
    job = change_set_of(connection, specs)
    base = f"/a/{connection.account.zoom_id}/imports/{job.pk}/"

    page = admin.get(base).content.decode()
    assert "Create" in page
    assert "Blocked" in page
    assert "Zoom does not let anyone deactivate the account&#x27;s Owner." in page
    assert "Estimated time" in page
    listing = admin.get(f"/a/{connection.account.zoom_id}/imports/").content.decode()
    assert "t.csv" in listing

    answer = admin.post(base + "start")
    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    poll = admin.get(base + "?part=progress", headers={"HX-Request": "true"})
    running = poll.content.decode()
    assert 'hx-trigger="every 2s"' in running
    assert "Pause" in running
    # The three creates are what the bar measures; the blocked row is never sent.
    assert 'aria-valuenow="0"' in running
    assert 'aria-valuemax="3"' in running
    assert poll["HX-Trigger"] == "job-progress"  # the rows table follows each poll
    page = admin.get(base + "?outcome=create").content.decode()
    assert 'id="job-rows"' in page
    assert 'hx-trigger="job-progress from:body"' in page
    rows = admin.get(base + "?outcome=create", headers={"HX-Request": "true", "HX-Target": "job-rows"})
    assert "<html" not in rows.content.decode()
    assert rows.content.decode().count('<td data-label="Line"') == 3  # this filter's rows only
    assert "Waiting" in rows.content.decode()

    run_to_end(job)
    poll = admin.get(base + "?part=progress", headers={"HX-Request": "true"})
    finished = poll.content.decode()
    assert "hx-trigger" not in finished
    assert "Finished" in finished
    assert ">100%<" in finished
    assert poll["HX-Trigger"] == "job-progress"  # the last poll brings the rows' outcomes too
    rows = admin.get(base + "?outcome=create", headers={"HX-Request": "true", "HX-Target": "job-rows"})
    assert rows.content.decode().count("Done") == 3
    assert "hx-trigger" not in rows.content.decode()  # an ended job's rows stop listening

    results = admin.get(base + "results.csv")
    assert results["Content-Type"].startswith("text/csv")
    lines = b"".join(results.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 4
    # A Zoom id may start with "-" (URL-safe base64): the file neutralises it like any formula-like cell.
    zoom_id = csv_cell(job.rows.get(line=2).zoom_id)
    assert lines[1].endswith(",2,create,done," + zoom_id + ",Created.")


def test_pause_resume_cancel_and_retry_buttons(admin: Client, connection: ZoomConnection) -> None:
    job = change_set_of(connection, create_specs("acme.example.com", 2))
    base = f"/a/{connection.account.zoom_id}/imports/{job.pk}/"
    admin.post(base + "start")
    admin.post(base + "pause")
    job.refresh_from_db()
    assert job.status == JobStatus.PAUSED
    assert "Resume" in admin.get(base).content.decode()
    admin.post(base + "resume")
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    admin.post(base + "cancel")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    # A second cancel is refused with a sentence, not an error page.
    answer = admin.post(base + "cancel", follow=True)
    assert "This job has already ended." in answer.content.decode()
    # Nothing failed, so there is nothing to retry.
    answer = admin.post(base + "retry", follow=True)
    assert "This job has no failed rows to retry." in answer.content.decode()
    assert ChangeSet.objects.count() == 1


def test_the_safeguard_asks_for_the_number(
    admin: Client, connection: ZoomConnection, sandbox_member: SandboxUser
) -> None:
    spec = RowSpec(line=2, action=Action.DEACTIVATE, email=sandbox_member.user_name, planned=Outcome.DEACTIVATE)
    job = change_set_of(connection, [spec], active_users=2)
    base = f"/a/{connection.account.zoom_id}/imports/{job.pk}/"
    assert "Type 1 to confirm" in admin.get(base).content.decode()
    refused = admin.post(base + "start", {"typed_count": "3"}, follow=True).content.decode()
    assert "Type 1 to confirm before starting." in refused
    admin.post(base + "start", {"typed_count": "1"})
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
