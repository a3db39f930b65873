"""The directory pages in Chromium: find a user by typing, filter, edit a job title in place, add ten users to a group.

Each change is then checked where an admin would look: the page, the audit log, and the sandbox (Zoom).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    PHONE,
    TABLET,
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    csp_violations,
    sign_in,
    text_lines,
)
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.models import SyncRun
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser, UserStatus

# The browser harness's fixtures: system Chromium, live server as base URL, session cookie, console and CSP.
__all__ = ["browser_context_args", "browser_type_launch_args", "console_errors", "csp_violations", "sign_in"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]


@pytest.fixture
def account(
    account_a: SandboxAccount,
    admin_a: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
    stored_connection: Callable[..., ZoomConnection],
    mirror_sync: Callable[[ZoomAccount], SyncRun],
    sign_in: Callable[[Any], None],
) -> ZoomAccount:
    """Account A with 40 people in three departments, mirrored; the browser is signed in as its admin."""
    departments = ["Engineering", "Sales", "Support"]
    for n in range(40):
        make_sandbox_user(
            account_a,
            user_name=f"person{n:02d}@acme.example.com",
            given_name=f"Person{n:02d}",
            family_name="Example",
            display_name=f"Person{n:02d} Example",
            department=departments[n % 3],
            title="Engineer",
            status=UserStatus.INACTIVE if n % 5 == 0 else UserStatus.ACTIVE,
        )
    make_sandbox_user(
        account_a,
        user_name="jill.chill@acme.example.com",
        given_name="Jill",
        family_name="Chill",
        title="API Developer",
    )
    SandboxGroup.objects.create(account=account_a, display_name="Launch crew")
    connection = stored_connection(admin_a)
    mirror_sync(connection.account)
    sign_in(connection.user)
    return connection.account


def test_find_filter_edit_and_add_members(
    page: Page, account: ZoomAccount, account_a: SandboxAccount, console_errors: list[str], csp_violations: Any
) -> None:
    users_url = f"/a/{account.zoom_id}/users/"
    page.goto(users_url)
    expect(page.get_by_test_id("freshness")).to_contain_text("Synced with Zoom")

    # "/" jumps to the search box; typing part of a name narrows the list without a page load, URL included.
    page.locator("body").press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.keyboard.type("chil")
    expect(page.get_by_test_id("user-count")).to_contain_text("1 user matches")
    expect(page).to_have_url(re.compile(r"q=chil"))
    page.get_by_role("link", name="Jill Chill").click()

    # Edit the job title in place.
    expect(page.get_by_test_id("profile")).to_contain_text("API Developer")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Job title").fill("Principal API Developer")
    page.get_by_role("button", name="Save to Zoom").click()
    expect(page.get_by_test_id("profile")).to_contain_text("Principal API Developer")
    assert SandboxUser.objects.get(user_name="jill.chill@acme.example.com").title == "Principal API Developer"
    # The change shows in the user's history at once, without a reload.
    expect(page.get_by_test_id("history")).to_contain_text("Principal API Developer")

    # Back to the list: filter to deactivated users in one department; the back button restores the search.
    page.go_back()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("chil")
    expect(page.get_by_test_id("user-count")).to_contain_text("1 user matches")
    page.goto(users_url)
    page.get_by_label("Status").select_option("inactive")
    page.get_by_label("Department").select_option("Sales")
    expect(page.get_by_test_id("user-count")).to_contain_text("users match")
    rows = page.get_by_test_id("user-results").locator("tbody tr")
    # n % 5 == 0 and n % 3 == 1: 10, 25, 40 → 10 and 25 exist.
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"status=inactive.*department=Sales|department=Sales.*status=inactive"))

    # Add ten users to a group by searching as you type and ticking them.
    page.goto(f"/a/{account.zoom_id}/groups/")
    page.get_by_role("link", name="Launch crew").click()
    page.get_by_label("Name or email").fill("person0")
    candidates = page.get_by_test_id("candidates").locator("input[type=checkbox]")
    expect(candidates).to_have_count(10)
    page.get_by_text("Select all shown").click()
    page.get_by_role("button", name=re.compile("Add 10 to the group")).click()
    expect(page.get_by_test_id("members")).to_contain_text("10 members")
    group = SandboxGroup.objects.get(account=account_a, display_name="Launch crew")
    assert group.members.count() == 10
    # The group's history shows the change at once; at tablet width the change (ten emails) gets the card's
    # width, not a sliver.
    page.set_viewport_size(TABLET)
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("person09@acme.example.com")
    change = history.locator('td[data-label="Change"] > div').first.bounding_box()
    table = history.bounding_box()
    assert change is not None
    assert table is not None
    assert change["width"] > table["width"] / 2
    page.set_viewport_size({"width": 1366, "height": 900})

    # Every change is in the audit log.
    page.goto(f"/a/{account.zoom_id}/audit/")
    results = page.get_by_test_id("audit-results")
    expect(results).to_contain_text("Update user")
    expect(results).to_contain_text("Principal API Developer")
    expect(results).to_contain_text("Add group members")

    assert console_errors == [], console_errors
    assert csp_violations(page) == []


def test_tablet_width_does_not_scroll_sideways(page: Page, account: ZoomAccount) -> None:
    page.set_viewport_size(TABLET)
    page.goto(f"/a/{account.zoom_id}/users/?per_page=50")
    expect(page.get_by_test_id("user-results")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    # Nor does the table inside its card: every column is in view.
    wrap = page.get_by_test_id("user-results").locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
    # Short values (status, type, role) stay on one line; only free text from Zoom may wrap.
    cells = page.locator('td[data-label="Status"], td[data-label="Type"], td[data-label="Role"]').all()
    assert cells
    broken = [cell.inner_text() for cell in cells if text_lines(cell) > 1]
    assert broken == []


def test_phone_width_shows_each_user_as_a_card(page: Page, account: ZoomAccount) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"/a/{account.zoom_id}/users/?q=chill")
    row = page.get_by_test_id("user-results").locator("tbody tr").first
    expect(row).to_contain_text("jill.chill@acme.example.com")
    # A labelled cell holds its name over its email, both in the value column (not the email under the label).
    name = row.locator('td[data-label="Name"] .cell-primary').bounding_box()
    email = row.locator('td[data-label="Name"] .cell-secondary').bounding_box()
    assert name is not None
    assert email is not None
    assert abs(name["x"] - email["x"]) < 1
    assert email["y"] > name["y"]
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
