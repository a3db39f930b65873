"""The upload page in Chromium: a file dropped on the form is planned (static/js/upload.js), no CSP complaints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    csp_violations,
    sign_in,
)
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.directory.sync import sync_execute, sync_request
from zoomadmin.imports.models import ChangeSet, Outcome
from zoomadmin.sandbox.models import SandboxUser

__all__ = ["browser_context_args", "browser_type_launch_args", "console_errors", "csp_violations", "sign_in"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]

DROP = """
([form, text]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], "dropped.csv", { type: "text/csv" }));
  for (const name of ["dragenter", "dragover", "drop"]) {
    form.dispatchEvent(new DragEvent(name, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}
"""


def test_drop_a_file_and_plan_it(
    page: Page,
    admin_a: SandboxUser,
    sandbox_member: SandboxUser,
    stored_connection: Callable[..., ZoomConnection],
    sign_in: Callable[[Any], None],
    console_errors: list[str],
    csp_violations: Callable[[Page], list[str]],
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.VAR_DIR = tmp_path
    connection = stored_connection(admin_a)
    sign_in(connection.user)
    sync_execute(run_id=sync_request(account=connection.account).pk)

    page.goto(f"/a/{connection.account.zoom_id}/imports/new")
    form = page.locator("form[data-dropzone]")
    page.evaluate(DROP, [form.element_handle(), "Email,Department\nmember@acme.example.com,Legal\n"])
    expect(page.get_by_text("Ready to plan: dropped.csv.")).to_be_visible()
    page.get_by_role("button", name="Plan the import").click()

    expect(page.get_by_role("heading", name="dropped.csv")).to_be_visible()
    assert ChangeSet.objects.get().totals == {Outcome.UPDATE: 1}
    assert console_errors == []
    assert csp_violations(page) == []
