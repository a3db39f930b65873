"""Bulk changes in Chromium: review a plan with bad rows, start it, watch it finish, download the results.

The job needs a worker. A Celery worker process would take its tasks from the suite's broker, where
other test runs leave theirs; instead a thread of the test runs the job's chunks with
`engine.job_work`, exactly what the `job_run_chunk` task calls, and starts only once the page shows
the job running, so the test sees the progress partial move from running to finished by polling.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    csp_violations,
    sign_in,
)
from tests.imports.support import change_set_of, create_specs
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.imports import engine
from zoomadmin.imports.models import Action, ChangeSet, JobStatus, Outcome
from zoomadmin.imports.services import RowSpec
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser

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


def _error(line: int, email: str, reason: str) -> RowSpec:
    return RowSpec(line=line, action=Action.UPSERT, email=email, planned=Outcome.ERROR, reason=reason, cells=[email])


def test_review_start_watch_and_download_results(
    page: Page,
    connection: ZoomConnection,
    account_a: SandboxAccount,
    job_worker: Callable[[int], threading.Thread],
    console_errors: list[str],
    csp_violations: Any,
) -> None:
    """A plan of twelve creates and two bad rows, as a CSV's plan comes to the page; started and followed to the end."""
    creates = create_specs(DOMAIN, 12)
    bad = [
        _error(14, "not-an-email", "“not-an-email” is not an email address."),
        _error(15, "new3@acme.example.com", "Duplicate of line 5: each email may appear once in a file."),
    ]
    job = change_set_of(connection, [*creates, *bad])
    account = connection.account
    page.goto(f"/a/{account.zoom_id}/imports/")
    page.get_by_role("link", name="t.csv").click()

    # The plan: totals per outcome, the estimate, and the bad rows with their line numbers and why.
    plan = page.get_by_role("region", name="Plan")
    expect(plan).to_contain_text("Create")
    expect(plan.locator("dd").first).to_have_text("12")
    expect(plan).to_contain_text("Estimated time at this account's rate limit")
    page.get_by_role("link", name="Error (2)").click()
    rows = page.get_by_role("region", name="Rows").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("14")
    expect(rows.nth(0)).to_contain_text("“not-an-email” is not an email address.")
    expect(rows.nth(1)).to_contain_text("15")
    expect(rows.nth(1)).to_contain_text("Duplicate of line 5")
    assert not SandboxUser.objects.filter(account=account_a, user_name__startswith="new").exists()

    # Start: the job runs, nobody has applied anything yet.
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".toast-success")).to_contain_text("Started. Rows are being applied now.")
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text("Running")
    expect(progress.get_by_role("button", name="Pause")).to_be_visible()
    # A mark on the document: if it is still there at the end, the progress came by polling, not a reload.
    page.evaluate("window.__sameDocument = true")

    job_worker(job.pk)
    expect(progress).to_contain_text("Finished", timeout=30_000)
    facts = progress.locator("dl.facts")
    expect(facts.locator("dt:text-is('Done') + dd")).to_have_text("12")
    expect(facts.locator("dt:text-is('Failed') + dd")).to_have_text("0")
    expect(facts.locator("dt:text-is('Remaining') + dd")).to_have_text("0")
    expect(progress.get_by_role("button", name="Pause")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")
    created = SandboxUser.objects.filter(account=account_a, user_name__startswith="new", user_name__endswith=DOMAIN)
    assert created.count() == 12

    # Results: one line per row of the file, in its columns plus the outcome columns.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download results (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 14
    by_line = {int(row["zoomadmin_line"]): row for row in table}
    assert sorted(by_line) == list(range(2, 16))
    for spec in creates:
        row = by_line[spec.line]
        assert (row["Email"], row["zoomadmin_outcome"], row["zoomadmin_status"]) == (spec.email, "create", "done")
        assert row["zoomadmin_zoom_id"] == created.get(user_name=spec.email).zoom_id
    assert by_line[14]["zoomadmin_outcome"] == "error"
    assert by_line[14]["zoomadmin_message"] == "“not-an-email” is not an email address."
    assert by_line[15]["zoomadmin_outcome"] == "error"

    assert console_errors == [], console_errors
    assert csp_violations(page) == []
