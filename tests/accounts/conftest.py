"""Sign-in helpers for the accounts tests; the personas live in tests/personas.py.

The dashboard talks to the sandbox through the in-process transport; the "browser" side
of the OAuth dance is a second Django test client addressed to the sandbox's host, so the two sites
keep separate cookies as they would in a real browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from zoomadmin.sandbox.models import RefreshToken, SandboxUser

SANDBOX_HOST = "sandbox.test"


@pytest.fixture(autouse=True)
def _zoom_settings(zoom_settings: None) -> None:
    """Every accounts test talks to the in-process sandbox."""


@pytest.fixture
def zoom_browser() -> Client:
    """The same browser as seen by Zoom's site (its own cookies)."""
    return Client(HTTP_HOST=SANDBOX_HOST)


def consent(zoom_browser: Client, authorize_url: str, user: SandboxUser | None, *, allow: bool = True) -> str:
    """Act on the sandbox's consent page as `user`; returns the URL Zoom redirects the browser to."""
    parts = urlsplit(authorize_url)
    assert parts.hostname == SANDBOX_HOST, authorize_url
    path = f"{parts.path}?{parts.query}"
    page = zoom_browser.get(path)
    assert page.status_code == 200, page.content[:500]
    data = {"decision": "authorize" if allow else "deny"}
    if user is not None:
        data["user"] = user.user_name
    answer = zoom_browser.post(path, data)
    assert answer.status_code == 302, answer.content[:500]
    return str(answer["Location"])


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/accounts/callback", location
    return f"{parts.path}?{parts.query}"


def callback_query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def sign_in(zoom_browser: Client) -> Callable[..., Any]:
    """Run the whole flow: start at /login (or /link), consent as `user`, land on the callback."""

    def run(client: Client, user: SandboxUser, *, start: str = "/login") -> Any:
        started = client.post(start)
        assert started.status_code == 302, started.content[:500]
        location = consent(zoom_browser, started["Location"], user)
        return client.get(callback_path(location))

    return run


def rotated_refresh_tokens(user: SandboxUser) -> int:
    """How many refresh tokens of `user` the sandbox has rotated (one per successful refresh)."""
    return RefreshToken.objects.filter(user=user, rotated_at__isnull=False).count()
