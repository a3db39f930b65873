"""The whole sign-in in Chromium: the dashboard on the live server, Zoom's consent page on the sandbox.

The browser reaches the sandbox as `sandbox.localhost:<port>` (Chromium resolves *.localhost to the
loopback); the dashboard's own calls to Zoom go through the in-process transport.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import browser_context_args, browser_type_launch_args
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.sandbox.models import OAuthApp, SandboxUser

# The browser harness's launch and context options (system Chromium, live server as base URL).
__all__ = ["browser_context_args", "browser_type_launch_args"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox_origin(live_server: Any, settings: Any, sandbox_app: OAuthApp) -> str:
    port = urlsplit(live_server.url).port
    origin = f"http://sandbox.localhost:{port}"
    settings.ZOOM_OAUTH_BASE_URL = origin
    settings.ZOOM_API_BASE_URL = origin
    # As settings.py derives it from ZOOM_OAUTH_BASE_URL: sign-in forms are redirected to Zoom.
    settings.SECURE_CSP = {**settings.SECURE_CSP, "form-action": ["'self'", origin]}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "sandbox.localhost"]
    sandbox_app.redirect_uris += f"\n{live_server.url}/accounts/callback"
    sandbox_app.save()
    return origin


def _consent(page: Page, user: SandboxUser) -> None:
    page.wait_for_url(re.compile(r"^http://sandbox\.localhost:\d+/oauth/authorize\?"))
    page.get_by_label("Authorize as").select_option(user.user_name)
    page.get_by_role("button", name="Authorize").click()


@pytest.mark.usefixtures("allowed_accounts")
def test_sign_in_link_switch_and_sign_out(
    page: Page, live_server: Any, sandbox_origin: str, admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    page.goto("/")
    page.locator("main").get_by_role("button", name="Sign in with Zoom").click()
    _consent(page, admin_a)
    # Signed in, the admin lands on the account's overview, named after the company in their Zoom profile.
    page.wait_for_url(f"{live_server.url}/a/{admin_a.account.zoom_id}/")
    expect(page.get_by_role("heading", name="Acme Corp", level=1)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("admin@acme.example.com")
    expect(page.locator(".facts")).to_contain_text(admin_a.account.zoom_id)

    # Link a second Zoom account to the same person.
    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="Link another Zoom account").click()
    page.get_by_role("button", name="Continue to Zoom").click()
    _consent(page, admin_b)
    page.wait_for_url(f"{live_server.url}/a/{admin_b.account.zoom_id}/")
    expect(page.get_by_role("heading", name="Beta Ltd", level=1)).to_be_visible()
    page.goto("/accounts/")
    rows = page.locator(".connections tbody tr")
    expect(rows).to_have_count(2)
    assert ZoomConnection.objects.values("user").distinct().count() == 1

    # Switch back to the first account.
    page.get_by_role("button", name="Switch to Acme Corp").click()
    expect(page.get_by_role("heading", name="Acme Corp", level=1)).to_be_visible()

    # Disconnecting asks first; cancelling changes nothing.
    page.goto("/accounts/")
    page.get_by_role("link", name="Disconnect Beta Ltd").click()
    expect(page.get_by_role("heading", name="Disconnect Beta Ltd?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".connections tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Disconnect Beta Ltd").click()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator(".connections tbody tr")).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text("Disconnected Beta Ltd.")

    # Sign out from the account menu.
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("main").get_by_role("button", name="Sign in with Zoom")).to_be_visible()
    expect(page.locator(".account-menu")).to_have_count(0)


@pytest.mark.usefixtures("allowed_accounts")
def test_next_is_honoured_after_sign_in(
    page: Page, live_server: Any, sandbox_origin: str, admin_a: SandboxUser
) -> None:
    # Signed out, open /link: sign in first, then land on /link.
    page.goto("/link")
    page.wait_for_url(re.compile(r"/login\?next=/link$"))
    page.locator("main").get_by_role("button", name="Sign in with Zoom").click()
    _consent(page, admin_a)
    page.wait_for_url(f"{live_server.url}/link")
    expect(page.get_by_role("heading", name="Link another Zoom account")).to_be_visible()


@pytest.mark.usefixtures("allowed_accounts")
def test_accounts_table_actions_reachable_on_a_phone(
    page: Page, live_server: Any, sandbox_origin: str, admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    page.goto("/login")
    page.locator("main").get_by_role("button", name="Sign in with Zoom").click()
    _consent(page, admin_a)
    page.wait_for_url(re.compile(r"/a/"))
    page.goto("/link")
    page.get_by_role("button", name="Continue to Zoom").click()
    _consent(page, admin_b)
    page.wait_for_url(re.compile(r"/a/"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/")
    # Nothing on the page scrolls sideways, and every action button lies inside the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wraps = page.locator(".table-wrap")
    for index in range(wraps.count()):
        assert wraps.nth(index).evaluate("el => el.scrollWidth <= el.clientWidth")
    for action in (
        page.get_by_role("button", name="Switch to Acme Corp"),
        page.get_by_role("link", name="Disconnect Beta Ltd"),
    ):
        box = action.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390


@pytest.mark.usefixtures("allowed_accounts")
def test_member_sees_why_they_cannot_sign_in(page: Page, sandbox_origin: str, sandbox_member: SandboxUser) -> None:
    page.goto("/login")
    page.locator("main").get_by_role("button", name="Sign in with Zoom").click()
    _consent(page, sandbox_member)
    expect(page.get_by_role("heading", name="You cannot use zoomadmin with this Zoom account")).to_be_visible()
    expect(page.locator("main")).to_contain_text("a Member of account")
    expect(page.locator("main")).to_contain_text("only Owners and Admins can use zoomadmin")
