"""The account overview in Chromium: the charts at laptop, tablet and phone width without console or CSP
errors, and a never-synced account going from its empty state through "Sync now" to the charts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LAPTOP,
    PHONE,
    TABLET,
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    csp_violations,
    screenshot,
    sign_in,
)
from tests.directory.conftest import mirror_sync
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.models import SyncRun
from zoomadmin.directory.sync import sync_execute
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser, UserStatus

# The browser harness's fixtures, and the directory tests' sync of the mirror from the sandbox.
__all__ = [
    "browser_context_args",
    "browser_type_launch_args",
    "console_errors",
    "csp_violations",
    "mirror_sync",
    "screenshot",
    "sign_in",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]


@pytest.fixture
def connection(
    account_a: SandboxAccount,
    admin_a: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
    stored_connection: Callable[..., ZoomConnection],
    sign_in: Callable[[Any], None],
) -> ZoomConnection:
    """Account A in Zoom with 30 people and two groups (one with a hostile, long name); the browser is its admin."""
    people = [
        make_sandbox_user(
            account_a,
            user_name=f"person{n:02d}@acme.example.com",
            status=UserStatus.INACTIVE if n % 5 == 0 else UserStatus.ACTIVE,
            user_type="Licensed" if n % 3 == 0 else "Basic",
        )
        for n in range(30)
    ]
    SandboxGroup.objects.create(account=account_a, display_name="<script>alert(1)</script>").members.set(people[:12])
    SandboxGroup.objects.create(account=account_a, display_name="\u05de\u05db\u05d9\u05e8\u05d5\u05ea " + "x" * 190)
    connection = stored_connection(admin_a)
    sign_in(connection.user)
    return connection


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET, PHONE], ids=["laptop", "tablet", "phone"])
def test_the_charts_show_without_errors(
    page: Page,
    connection: ZoomConnection,
    mirror_sync: Callable[[ZoomAccount], SyncRun],
    console_errors: list[str],
    csp_violations: Any,
    screenshot: Callable[[Page, str], Any],
    viewport: dict[str, int],
) -> None:
    account = connection.account
    mirror_sync(account)
    page.set_viewport_size(viewport)
    page.goto(f"/a/{account.zoom_id}/")

    users = page.get_by_test_id("overview-users")
    donut = users.get_by_role("img", name="Users by status")
    expect(donut).to_be_visible()
    assert donut.bounding_box()["width"] > 50  # type: ignore[index]
    # The legend is the text equivalent: each status with its number, linked to the filtered list.
    expect(users.get_by_role("link", name="Deactivated")).to_have_attribute(
        "href", f"/a/{account.zoom_id}/users/?status=inactive"
    )
    expect(users.locator(".chart-legend")).to_contain_text("Deactivated 6")
    expect(users.get_by_test_id("overview-types")).to_contain_text("Licensed")

    groups = page.get_by_test_id("overview-group-bars")
    expect(groups.get_by_role("link", name="<script>alert(1)</script>")).to_be_visible()
    expect(groups.locator(".chart-bar").first).to_be_visible()
    expect(page.get_by_test_id("overview-rate-limits")).to_contain_text("per second")
    expect(page.get_by_test_id("freshness")).to_contain_text("Synced with Zoom")

    _no_sideways_scroll(page)
    screenshot(page, f"overview-{viewport['width']}")
    assert console_errors == [], console_errors
    assert csp_violations(page) == []


def test_sync_now_from_the_empty_state_fills_the_page(
    page: Page, connection: ZoomConnection, console_errors: list[str], csp_violations: Any
) -> None:
    account = connection.account
    page.goto(f"/a/{account.zoom_id}/")
    empty = page.get_by_test_id("overview-empty")
    expect(empty).to_contain_text("Nothing read from Zoom yet")
    expect(page.get_by_test_id("overview-users")).to_have_count(0)

    empty.get_by_role("button", name="Sync now").click()
    # The sync is queued; the region shows its progress and polls until it ends.
    expect(page.get_by_test_id("freshness")).to_contain_text("Syncing with Zoom")
    run = SyncRun.objects.get(account=account)
    # Run it as a worker would; the page notices the end and reloads its content by itself.
    sync_execute(run_id=run.pk)

    expect(page.get_by_test_id("overview-users")).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("overview-empty")).to_have_count(0)
    expect(page.get_by_role("img", name="Users by status")).to_be_visible()
    assert console_errors == [], console_errors
    assert csp_violations(page) == []
