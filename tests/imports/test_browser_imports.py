"""Bulk changes in Chromium: upload a CSV with bad rows, review its plan, start it, watch it finish,
download the results; deactivate users picked in the users list in one bulk action.

The job needs a worker. A Celery worker process would take its tasks from the suite's broker, where
other test runs leave theirs; instead a thread of the test runs the job's chunks with
`engine.job_work`, exactly what the `job_run_chunk` task calls, and starts only once the page shows
the job running, so the test sees the progress partial move from running to finished by polling.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import (
    TABLET,
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    csp_violations,
    sign_in,
    text_lines,
)
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.directory.sync import sync_execute, sync_request
from zoomadmin.imports import engine
from zoomadmin.imports.models import ChangeSet, JobStatus
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser, UserStatus
from zoomadmin.spreadsheet import csv_cell

# The browser harness's fixtures: system Chromium, live server as base URL, session cookie, console and CSP.
__all__ = ["browser_context_args", "browser_type_launch_args", "console_errors", "csp_violations", "sign_in"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]

DOMAIN = "acme.example.com"


@pytest.fixture
def connection(
    admin_a: SandboxUser, stored_connection: Callable[..., ZoomConnection], sign_in: Callable[[Any], None]
) -> ZoomConnection:
    """Admin A's connection; the browser is signed in as that admin."""
    row = stored_connection(admin_a)
    sign_in(row.user)
    return row


@pytest.fixture
def job_worker() -> Iterator[Callable[[int], threading.Thread]]:
    """`start(change_set_id)`: a thread works the job chunk after chunk (as the Celery task does) until it ends."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def work(change_set_id: int) -> None:
        try:
            while not stop.is_set():
                result = engine.job_work(change_set_id, seconds=2, concurrency=4)
                status = ChangeSet.objects.filter(pk=change_set_id).values_list("status", flat=True).get()
                if status != JobStatus.RUNNING:
                    return
                stop.wait(min(result.again_in or 0.1, 1.0))
        finally:
            connections.close_all()

    def start(change_set_id: int) -> threading.Thread:
        thread = threading.Thread(target=work, args=(change_set_id,), daemon=True, name="job-worker")
        threads.append(thread)
        thread.start()
        return thread

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def people(
    account_a: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser], connection: ZoomConnection
) -> list[SandboxUser]:
    """Sixty active people in account A, and the mirror synced from the sandbox (plans compare with it)."""
    made = [
        make_sandbox_user(
            account_a,
            user_name=f"person{n:02d}@{DOMAIN}",
            given_name=f"Person{n:02d}",
            family_name="Example",
            display_name=f"Person{n:02d} Example",
        )
        for n in range(60)
    ]
    sync_execute(run_id=sync_request(account=connection.account).pk)
    return made


def _job_id(page: Page) -> int:
    found = re.search(r"/imports/(\d+)/", page.url)
    assert found, page.url
    return int(found.group(1))


def _watch_to_the_end(page: Page, job_worker: Callable[[int], threading.Thread], *, done: int) -> None:
    """On a started job's page: run its worker, and see the progress partial reach the end by polling."""
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text("Running")
    expect(progress.get_by_role("button", name="Pause")).to_be_visible()
    # A mark on the document: if it is still there at the end, the progress came by polling, not a reload.
    page.evaluate("window.__sameDocument = true")
    job_worker(_job_id(page))
    expect(progress).to_contain_text("Finished", timeout=60_000)
    facts = progress.locator("dl.facts")
    expect(facts.locator("dt:text-is('Done') + dd")).to_have_text(str(done))
    expect(facts.locator("dt:text-is('Failed') + dd")).to_have_text("0")
    expect(facts.locator("dt:text-is('Remaining') + dd")).to_have_text("0")
    expect(progress.get_by_role("button", name="Pause")).to_have_count(0)
    # The bar counts the rows sent to Zoom (not those planned to stay as they are), so an ended job is full.
    expect(progress.locator(".progress-value")).to_have_text("100%")
    # The rows table followed the polls: each row's state, without a reload (these jobs fit on one page).
    states = page.get_by_role("region", name="Rows").locator('td[data-label="State"]')
    expect(states.filter(has_text="Done")).to_have_count(done)
    expect(states.filter(has_text="Waiting")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")
    # At tablet width every column of the rows table is in view (long messages wrap), emails on one line.
    page.set_viewport_size(TABLET)
    wrap = page.get_by_role("region", name="Rows").locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
    email = page.get_by_role("region", name="Rows").locator('td[data-label="Email"]').first
    assert text_lines(email) == 1
    page.set_viewport_size({"width": 1366, "height": 900})


def _results(page: Page) -> list[dict[str, str]]:
    with page.expect_download() as download:
        page.get_by_role("link", name="Download results (CSV)").click()
    return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))


def test_upload_a_csv_with_bad_rows_plan_start_watch_and_download(
    page: Page,
    people: list[SandboxUser],
    connection: ZoomConnection,
    account_a: SandboxAccount,
    job_worker: Callable[[int], threading.Thread],
    console_errors: list[str],
    csp_violations: Any,
) -> None:
    """18 new people and three bad lines (an invalid email, a repeated email, an unknown action)."""
    lines = ["Email,First Name,Last Name,Job Title,Action"]
    lines += [f"hire{n}@{DOMAIN},Hire{n},Person,Engineer," for n in range(18)]  # lines 2-19
    lines += [
        "not-an-email,Bad,Row,Engineer,",  # line 20
        f"hire3@{DOMAIN},Again,Person,Engineer,",  # line 21: hire3 is on line 5
        f"hire99@{DOMAIN},Odd,Person,Engineer,promote",  # line 22
    ]
    account = connection.account
    page.goto(f"/a/{account.zoom_id}/users/")
    page.get_by_role("link", name="Import a CSV").click()
    upload = FilePayload(name="new-hires.csv", mimeType="text/csv", buffer="\r\n".join(lines).encode())
    page.get_by_label("CSV file").set_input_files(files=[upload])
    page.get_by_role("button", name="Plan the import").click()

    # The plan: totals, estimate, and each bad line with its number and a sentence; nothing sent yet.
    expect(page.locator(".toast-success")).to_contain_text("Nothing has been sent to Zoom")
    plan = page.get_by_role("region", name="Plan")
    expect(plan.locator("dt:text-is('Create') + dd")).to_have_text("18")
    expect(plan.locator("dt:text-is('Error') + dd")).to_have_text("3")
    expect(plan).to_contain_text("Estimated time at this account's rate limit")
    page.get_by_role("link", name="Error (3)").click()
    rows = page.get_by_role("region", name="Rows").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("20")
    expect(rows.nth(0)).to_contain_text('The email "not-an-email" is not a valid email address.')
    expect(rows.nth(1)).to_contain_text("21")
    expect(rows.nth(1)).to_contain_text(f"hire3@{DOMAIN} is already on line 5")
    expect(rows.nth(2)).to_contain_text("22")
    expect(rows.nth(2)).to_contain_text("promote")
    assert not SandboxUser.objects.filter(account=account_a, user_name__startswith="hire").exists()

    page.get_by_role("button", name="Start").click()
    expect(page.locator(".toast-success")).to_contain_text("Started")
    _watch_to_the_end(page, job_worker, done=18)
    hired = SandboxUser.objects.filter(account=account_a, user_name__startswith="hire")
    assert sorted(hired.values_list("user_name", flat=True)) == sorted(f"hire{n}@{DOMAIN}" for n in range(18))

    # One line per line of the file, in its own columns plus the outcome columns.
    table = _results(page)
    by_line = {int(row["zoomadmin_line"]): row for row in table}
    assert len(table) == 21
    assert sorted(by_line) == list(range(2, 23))
    for n in range(18):
        row = by_line[n + 2]
        assert (row["Email"], row["zoomadmin_outcome"], row["zoomadmin_status"]) == (
            f"hire{n}@{DOMAIN}",
            "create",
            "done",
        )
        # Zoom ids may start with "-": the file neutralises such cells against spreadsheet formulas.
        assert row["zoomadmin_zoom_id"] == csv_cell(hired.get(user_name=f"hire{n}@{DOMAIN}").zoom_id)
    assert [by_line[n]["zoomadmin_outcome"] for n in (20, 21, 22)] == ["error", "error", "error"]
    assert by_line[20]["Email"] == "not-an-email"
    assert "is already on line 5" in by_line[21]["zoomadmin_message"]

    assert console_errors == [], console_errors
    assert csp_violations(page) == []


def test_deactivate_fifty_selected_users_in_one_bulk_action(
    page: Page,
    people: list[SandboxUser],
    connection: ZoomConnection,
    account_a: SandboxAccount,
    job_worker: Callable[[int], threading.Thread],
    console_errors: list[str],
    csp_violations: Any,
) -> None:
    """Tick a page of 50 people, deactivate them: plan, safeguard (typed number), start, watch, Zoom."""
    account = connection.account
    page.goto(f"/a/{account.zoom_id}/users/?q=person&per_page=50&sort=email")
    expect(page.get_by_test_id("user-results").locator("tbody tr")).to_have_count(50)
    page.get_by_label("Select every user on this page").check()
    expect(page.locator("[data-selection-count]")).to_have_text("50")
    page.get_by_role("button", name="Deactivate selected").click()

    # The confirmation page names what was picked; planning it still sends nothing.
    expect(page.get_by_role("heading", name="Change 50 users")).to_be_visible()
    expect(page.get_by_label("Action", exact=True)).to_have_value("deactivate")
    page.get_by_role("button", name="Plan it").click()
    plan = page.get_by_role("region", name="Plan")
    expect(plan.locator("dt:text-is('Deactivate') + dd")).to_have_text("50")
    assert SandboxUser.objects.filter(account=account_a, status=UserStatus.INACTIVE).count() == 0

    # 50 of about 60 active users: over the safeguard's share, so the number must be typed.
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".toast-error")).to_contain_text("Type 50 to confirm")
    assert SandboxUser.objects.filter(account=account_a, status=UserStatus.INACTIVE).count() == 0
    page.get_by_label("Type 50 to confirm").fill("50")
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".toast-success")).to_contain_text("Started")
    _watch_to_the_end(page, job_worker, done=50)

    inactive = SandboxUser.objects.filter(account=account_a, status=UserStatus.INACTIVE)
    expected = sorted(user.user_name for user in people)[:50]
    assert sorted(inactive.values_list("user_name", flat=True)) == expected
    assert len(_results(page)) == 50

    assert console_errors == [], console_errors
    assert csp_violations(page) == []
