"""The audit log in Chromium: an admin filters the log by action and the rows change in place."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    TABLET,
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    csp_violations,
    screenshot,
    sign_in,
)
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditEvent, AuditTarget
from zoomadmin.zoom.errors import Conflict

# The browser harness's fixtures: system Chromium, live server as base URL, session cookie, console and CSP.
__all__ = [
    "browser_context_args",
    "browser_type_launch_args",
    "console_errors",
    "csp_violations",
    "screenshot",
    "sign_in",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filtering_by_action_changes_the_rows_and_the_url(
    page: Page,
    live_server: Any,
    sign_in: Callable[[AbstractBaseUser], None],
    console_errors: list[str],
    csp_violations: Callable[[Page], list[str]],
    screenshot: Callable[[Page, str], Path],
    connection_a: ZoomConnection,
    record: Callable[..., AuditEvent],
) -> None:
    record(connection_a, action=AuditAction.USER_CREATE, target_label="ann@acme.example.com")
    record(
        connection_a,
        action=AuditAction.USER_DELETE,
        target_label="<b>bob</b>@acme.example.com",
        error=Conflict("Zoom refused the change because it conflicts with existing data.", status=409),
    )
    record(connection_a, action=AuditAction.USER_UPDATE, target_label="cy@acme.example.com")
    sign_in(connection_a.user)
    url = f"/a/{connection_a.account.zoom_id}/audit/"

    page.goto(url)
    rows = page.locator("#audit-results tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Action").select_option(label="Delete user")

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("<b>bob</b>@acme.example.com")
    expect(rows.first).to_contain_text("conflicts with existing data")
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=user\.delete"))
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", re.compile(r"action=user\.delete"))

    # The URL carries the filter: going back shows the whole log again, reloading keeps the filter.
    page.go_back()
    expect(rows).to_have_count(3)
    page.go_forward()
    page.reload()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Action")).to_have_value("user.delete")
    assert console_errors == []
    assert csp_violations(page) == []
    # Last: taking a full-page screenshot makes Playwright apply inline styles, which CSP reports.
    screenshot(page, "audit-log-filtered")


def test_at_tablet_width_each_change_is_a_card_with_room_for_its_text(
    page: Page,
    live_server: Any,
    sign_in: Callable[[AbstractBaseUser], None],
    connection_a: ZoomConnection,
    record: Callable[..., AuditEvent],
) -> None:
    """Six columns of long text would squeeze each word onto lines of a few letters on a tablet."""
    members = ", ".join(f"person{n:02d}@acme.example.com" for n in range(10))
    record(
        connection_a,
        action=AuditAction.GROUP_ADD_MEMBERS,
        target_type=AuditTarget.GROUP,
        target_zoom_id="g-1",
        target_label="Launch crew",
        changes={"members": ["", members]},
    )
    sign_in(connection_a.user)
    page.set_viewport_size(TABLET)
    page.goto(f"/a/{connection_a.account.zoom_id}/audit/")
    changes = page.locator('#audit-results td[data-label="Changes"]')
    expect(changes).to_contain_text("person09@acme.example.com")

    assert changes.evaluate("cell => getComputedStyle(cell).display") == "grid"  # rows are cards of labelled cells
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    table = page.locator("#audit-results table").bounding_box()
    text = changes.locator("ul").bounding_box()
    assert table is not None
    assert text is not None
    assert text["width"] > table["width"] / 2
    who = page.locator('#audit-results td[data-label="Who"] > div').bounding_box()
    assert who is not None
    assert who["width"] > table["width"] / 2

    page.set_viewport_size({"width": 1366, "height": 900})
    assert changes.evaluate("cell => getComputedStyle(cell).display") == "table-cell"  # a laptop keeps the table
