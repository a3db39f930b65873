"""Browser-test harness: Playwright driving Debian's Chromium against pytest-django's live server.

Use the `page` fixture of pytest-playwright; it opens on the live server (relative URLs work:
`page.goto("/")`) at a 1366 by 768 laptop viewport. `sign_in(user)` gives the page's browser a
signed-in session, `console_errors` collects what the browser complained about (including CSP
violations), and `screenshot(page, name)` saves a full-page PNG under `test-results/`
(pytest-playwright's `--output`).

Never run `playwright install`: the Chromium is the distribution's (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Locator, Page

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls there otherwise.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HTMX_ABORT_NOISE = ("htmx:sendAbort", "htmx:afterRequest")
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}

# The most line boxes any one text inside an element is laid out on (1: none of its texts wraps).
_TEXT_LINES = """
(element) => {
    let most = 0;
    const texts = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        most = Math.max(most, range.getClientRects().length);
    }
    return most;
}
"""


def text_lines(element: Locator) -> int:
    """On how many lines the element's longest-wrapping text is laid out: 1 when no word or value wraps."""
    return int(element.evaluate(_TEXT_LINES))


# Runs in every page before its own scripts: records CSP violations, which do not always reach the console.
_CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives a browser: mark it so `-m "not browser"` skips them all."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at the system Chromium."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Browser tests need Debian's Chromium on PATH: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": executable, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], live_server: Any) -> dict[str, Any]:
    """Every page starts on the live server at laptop size."""
    return {**browser_context_args, "base_url": live_server.url, "viewport": LAPTOP}


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of `page`; also arms the CSP recorder for `csp_violations`."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Leaving a page aborts htmx's in-flight requests (a debounced search, a poll), and htmx logs the
        # abort and its afterRequest as errors. Failed answers still show as htmx:responseError.
        if message.type == "error" and not message.text.startswith(HTMX_ABORT_NOISE):
            errors.append(message.text)

    def on_page_error(error: Error) -> None:
        errors.append(f"uncaught: {error.message}")

    page.add_init_script(_CSP_RECORDER)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return errors


@pytest.fixture
def csp_violations(console_errors: list[str]) -> Callable[[Page], list[str]]:
    """`csp_violations(page)`: the CSP violations the page's current document saw (needs `console_errors`)."""

    def read(page: Page) -> list[str]:
        found: list[str] = page.evaluate("window.__cspViolations || []")
        return found

    return read


@pytest.fixture
def sign_in(context: BrowserContext, live_server: Any) -> Callable[[AbstractBaseUser], None]:
    """Give the browser context a session signed in as `user` (a Django user), as after a Zoom sign-in."""

    def sign(user: AbstractBaseUser) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])

    return sign


@pytest.fixture
def screenshot(pytestconfig: pytest.Config) -> Callable[[Page, str], Path]:
    """`screenshot(page, name)` saves a full-page PNG as test-results/<name>.png and returns its path.

    The folder is pytest-playwright's `--output` (default `test-results`), which it empties when a run starts.
    """
    results = Path(pytestconfig.getoption("--output")).absolute()

    def take(page: Page, name: str) -> Path:
        results.mkdir(parents=True, exist_ok=True)
        path = results / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
