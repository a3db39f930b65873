"""The dashboard shell (templates/base.html) and its components, as a person sees them in Chromium.

The home page, the account overview and the audit log are the real ones: the navigation is judged
there. The component checks use a page made for this test (routes below, added to the real URLconf)
that extends base.html and shows every component (toasts, pagination, progress, the account menu)
in one place. Its shell context comes from the real context processors and its account switch posts
to the real `accounts:switch` view.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import require_POST
from playwright.sync_api import Page, expect

from zoomadmin.accounts.context_processors import dashboard
from zoomadmin.accounts.models import ConnectionStatus, ZoomAccount, ZoomConnection

# A page that extends base.html and shows every component (a living style guide for the screenshots).
DEMO_PAGE = (Path(__file__).parent / "shell_demo.html").read_text(encoding="utf-8")

PEOPLE = [
    {
        "name": f"Person {n:03d}",
        "email": f"person{n:03d}@acme.example.com",
        "role": ("Owner", "Admin", "Member", "Member")[n % 4],
        "status": ("active", "active", "pending", "deactivated")[n % 4],
        "groups": n % 7,
    }
    for n in range(1, 121)
]
Shot = Callable[[Page, str], Path]
SignIn = Callable[[AbstractUser], None]
SYNC_TOAST = "Sync started: users and groups refresh in the background."
MESSAGE = "Zoom asked us to slow down; the import resumes in 30 seconds."


def shell_demo(request: HttpRequest) -> HttpResponse:
    if request.GET.get("message"):
        messages.warning(request, MESSAGE)
    page_obj = Paginator(PEOPLE, 10).get_page(request.GET.get("page"))
    context = {**dashboard(request), "page_obj": page_obj}
    return HttpResponse(engines["django"].from_string(DEMO_PAGE).render(context, request))


@require_POST
def shell_sync(request: HttpRequest) -> HttpResponse:
    body = '{% include "components/toast.html" with text=text level="success" oob=True %}'
    return HttpResponse(engines["django"].from_string(body).render({"text": SYNC_TOAST}, request))


urlpatterns = [
    path("__shell__/demo", shell_demo, name="shell-demo"),
    path("__shell__/sync", shell_sync, name="shell-sync"),
    path("", include("zoomadmin.urls")),
]

pytestmark = pytest.mark.urls(__name__)


def _connection(user: AbstractUser, account_name: str, account_id: str, role: str) -> ZoomConnection:
    account, _ = ZoomAccount.objects.get_or_create(zoom_id=account_id, defaults={"name": account_name})
    connection = ZoomConnection(
        user=user,
        account=account,
        zoom_user_id=f"u-{account_id}",
        zoom_email=f"ana@{account_id}.example.com",
        zoom_display_name="Ana Lima",
        role=role,
    )
    connection.tokens_set(
        access_token="at", refresh_token="rt", expires_at=timezone.now() + timedelta(hours=1), scopes="scim2:admin"
    )
    connection.save()
    return connection


@pytest.fixture
def msp_admin(transactional_db: None) -> AbstractUser:
    """A dashboard person linked to two Zoom accounts: Owner of Acme, Admin of Globex."""
    user = get_user_model().objects.create_user(username="ana", email="ana@acme.example.com")
    _connection(user, "Acme Corp", "acme", "Owner")
    _connection(user, "Globex", "globex", "Admin")
    return user


def _no_horizontal_overflow(page: Page) -> bool:
    result: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return result


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (768, 1024)])
def test_home_page_renders_in_the_shell(page: Page, width: int, height: int, screenshot: Shot) -> None:
    page.set_viewport_size({"width": width, "height": height})
    response = page.goto("/")

    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("banner").get_by_role("link", name="zoomadmin")).to_be_visible()
    expect(page.locator("main#main")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("zoomadmin")
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    assert _no_horizontal_overflow(page)
    screenshot(page, f"shell-home-{width}")


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (768, 1024)])
def test_signed_in_shell_fits_laptop_and_tablet(
    page: Page,
    sign_in: SignIn,
    msp_admin: AbstractUser,
    width: int,
    height: int,
    screenshot: Shot,
) -> None:
    sign_in(msp_admin)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/__shell__/demo")

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Corp")
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()
    summary = page.locator("details.account-menu > summary")
    expect(summary).to_contain_text("Acme Corp")
    expect(summary).to_contain_text("Owner")
    # The wide users table scrolls inside its card; the page itself never scrolls sideways.
    assert _no_horizontal_overflow(page)
    screenshot(page, f"shell-demo-{width}")


def test_real_pages_mark_their_own_nav_item(page: Page, sign_in: SignIn, msp_admin: AbstractUser) -> None:
    sign_in(msp_admin)
    page.goto("/")

    # Signed in, the home page is the current account's overview.
    assert re.search(r"/a/(acme|globex)/$", page.url), page.url
    nav = page.get_by_role("navigation", name="Primary")
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Audit log")).not_to_have_attribute("aria-current", "page")

    nav.get_by_role("link", name="Audit log").click()

    expect(page).to_have_url(re.compile(r"/a/(acme|globex)/audit/$"))
    expect(nav.get_by_role("link", name="Audit log")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Overview")).not_to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current]")).to_have_count(1)


def test_tablet_width_keeps_every_nav_item_reachable(page: Page, sign_in: SignIn, msp_admin: AbstractUser) -> None:
    sign_in(msp_admin)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto("/")

    nav = page.get_by_role("navigation", name="Primary")
    expect(nav.get_by_role("link")).not_to_have_count(0)
    for link in nav.get_by_role("link").all():
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
    expect(page.locator("details.account-menu > summary")).to_be_in_viewport()


def test_skip_link_is_the_first_stop_and_focuses_main(page: Page) -> None:
    page.goto("/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_csp_is_enforced_and_the_shell_breaks_none_of_it(
    page: Page,
    console_errors: list[str],
    csp_violations: Callable[[Page], list[str]],
    sign_in: SignIn,
    msp_admin: AbstractUser,
) -> None:
    sign_in(msp_admin)
    response = page.goto("/__shell__/demo?message=1")

    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.htmx") == "object"
    # Exercise the menu and an htmx request too: both must work without any inline script or style.
    page.locator("details.account-menu > summary").click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#toasts")).to_contain_text(SYNC_TOAST)
    assert csp_violations(page) == []
    assert console_errors == []


def test_django_message_shows_as_a_toast_that_can_be_dismissed(
    page: Page, sign_in: SignIn, msp_admin: AbstractUser, screenshot: Shot
) -> None:
    sign_in(msp_admin)
    page.goto("/__shell__/demo?message=1")

    toast = page.locator("#toasts .toast", has_text=MESSAGE)
    expect(toast).to_be_visible()
    expect(toast).to_have_attribute("role", "alert")
    expect(toast).to_be_in_viewport()
    screenshot(page, "shell-toast")
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)
    # A message is shown once: the next page no longer carries it.
    page.goto("/__shell__/demo")
    expect(page.locator("#toasts")).not_to_contain_text(MESSAGE)


def test_htmx_response_adds_an_out_of_band_toast(page: Page, sign_in: SignIn, msp_admin: AbstractUser) -> None:
    sign_in(msp_admin)
    page.goto("/__shell__/demo")
    expect(page.locator("#toasts .toast")).to_have_count(0)

    # A POST: it only succeeds because <body hx-headers> sends the CSRF token.
    page.get_by_role("button", name="Sync now").click()

    toast = page.locator("#toasts .toast-success")
    expect(toast).to_contain_text(SYNC_TOAST)
    expect(toast).to_have_attribute("role", "status")


def test_an_htmx_request_that_fails_says_so_in_one_error_toast(
    page: Page, sign_in: SignIn, msp_admin: AbstractUser
) -> None:
    """A crash, an expired form or a lost connection swaps nothing in: the admin gets a sentence instead."""
    sign_in(msp_admin)
    page.goto("/__shell__/demo")
    button = page.get_by_role("button", name="Sync now")
    errors = page.locator("#toasts .toast-error")

    page.route("**/__shell__/**", lambda route: route.fulfill(status=500, body="boom"), times=2)
    button.click()
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("zoomadmin could not finish this (error 500).")
    expect(errors.first).to_have_attribute("role", "alert")
    expect(errors.first).not_to_contain_text("boom")
    button.click()
    page.wait_for_timeout(300)
    expect(errors).to_have_count(1)  # the same failure is not stacked

    page.route("**/__shell__/**", lambda route: route.fulfill(status=403, body=""), times=1)
    button.click()
    expect(errors.last).to_contain_text("This page has expired")
    page.route("**/__shell__/**", lambda route: route.abort(), times=1)
    button.click()
    expect(errors.last).to_contain_text("zoomadmin could not be reached.")
    expect(errors).to_have_count(3)

    errors.first.get_by_role("button", name="Dismiss").click()
    expect(errors).to_have_count(2)
    button.click()  # the route is gone: the real answer arrives as before
    expect(page.locator("#toasts .toast-success")).to_contain_text(SYNC_TOAST)


def test_account_menu_switches_to_another_linked_account(
    page: Page, sign_in: SignIn, msp_admin: AbstractUser, screenshot: Shot
) -> None:
    sign_in(msp_admin)
    page.goto("/__shell__/demo?page=3")
    summary = page.locator("details.account-menu > summary")

    summary.click()
    panel = page.locator("details.account-menu .menu-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("ana@acme.example.com")
    expect(panel.get_by_role("link", name="Link another Zoom account")).to_be_visible()
    expect(panel.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "shell-account-menu")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    summary.click()
    panel.get_by_role("button", name="Globex").click()

    expect(summary).to_contain_text("Globex")
    expect(summary).to_contain_text("Admin")
    expect(page.locator("#toasts")).to_contain_text("Now working on Globex.")
    # The page the admin was on showed the other account: the switch lands on Globex's overview.
    expect(page).to_have_url(re.compile(r"/a/globex/$"))
    overview = page.get_by_role("navigation", name="Primary").get_by_role("link", name="Overview")
    expect(overview).to_have_attribute("aria-current", "page")


def test_reauth_banner_asks_to_sign_in_again(page: Page, sign_in: SignIn, msp_admin: AbstractUser) -> None:
    ZoomConnection.objects.filter(account__zoom_id="acme").update(status=ConnectionStatus.NEEDS_REAUTH)
    sign_in(msp_admin)
    page.goto("/__shell__/demo")

    banner = page.locator(".banner-region [role=alert]")
    expect(banner).to_contain_text("Sign in to Zoom again")
    expect(banner).to_contain_text("Acme Corp")
    expect(banner.get_by_role("button", name="Sign in with Zoom again")).to_be_visible()


def test_pagination_keeps_the_query_and_moves_pages(page: Page, sign_in: SignIn, msp_admin: AbstractUser) -> None:
    sign_in(msp_admin)
    page.goto("/__shell__/demo?q=person")
    pagination = page.get_by_role("navigation", name="Pagination")
    expect(pagination).to_contain_text("1\N{EN DASH}10 of 120 users")

    pagination.get_by_role("link", name="Next").click()

    expect(pagination).to_contain_text("11\N{EN DASH}20 of 120 users")
    expect(pagination).to_contain_text("Page 2 of 12")
    assert "q=person" in page.url
    assert "page=2" in page.url


def test_progress_bars_show_how_far_the_work_is(page: Page, sign_in: SignIn, msp_admin: AbstractUser) -> None:
    sign_in(msp_admin)
    page.goto("/__shell__/demo")

    native = page.get_by_role("progressbar", name="Rows applied", exact=True)
    expect(native).to_have_attribute("value", "137")
    expect(native).to_have_attribute("max", "300")
    # The div variant rounds 137 of 300 (45.7%) to the nearest 5% step and draws the fill that wide.
    bar = page.get_by_role("progressbar", name="Rows applied (bar)")
    expect(bar).to_have_attribute("aria-valuenow", "137")
    track = bar.bounding_box()
    fill = bar.locator(".progress-fill").bounding_box()
    assert track is not None
    assert fill is not None
    assert round(fill["width"] / track["width"], 2) == 0.45
