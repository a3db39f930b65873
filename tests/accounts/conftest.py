"""Personas and sign-in helpers for the accounts tests, on top of the sandbox fixtures.

Personas (STYLE.md): an admin of account A, a second admin of A, an admin of account B, a signed-out
visitor. The dashboard talks to the sandbox through the in-process transport; the "browser" side
of the OAuth dance is a second Django test client addressed to the sandbox's host, so the two sites
keep separate cookies as they would in a real browser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.sandbox.models import OAuthApp, RefreshToken, Role, SandboxAccount, SandboxUser
from zoomadmin.sandbox.tokens import tokens_issue

SANDBOX_HOST = "sandbox.test"


@pytest.fixture(autouse=True)
def _zoom_settings(settings: Any) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "zoomadmin.sandbox.transport.sandbox_transport"
    settings.ZOOM_OAUTH_BASE_URL = f"http://{SANDBOX_HOST}"
    settings.ZOOM_API_BASE_URL = f"http://{SANDBOX_HOST}"
    settings.ZOOM_CLIENT_ID = "test-client-id"
    settings.ZOOM_CLIENT_SECRET = "test-client-secret"
    settings.ZOOM_OAUTH_SCOPES = "scim2:admin user:read:user"


@pytest.fixture
def account_a(sandbox_account: SandboxAccount) -> SandboxAccount:
    return sandbox_account


@pytest.fixture
def account_b(make_sandbox_account: Callable[..., SandboxAccount]) -> SandboxAccount:
    return make_sandbox_account(name="Beta Ltd", vanity_domain="beta.example.com")


@pytest.fixture
def admin_a(sandbox_admin: SandboxUser) -> SandboxUser:
    """An admin of account A."""
    return sandbox_admin


@pytest.fixture
def admin_a2(account_a: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    """A second admin of account A."""
    return make_sandbox_user(account_a, user_name="admin2@acme.example.com", role=Role.ADMIN)


@pytest.fixture
def admin_b(account_b: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    """An admin of account B."""
    return make_sandbox_user(account_b, user_name="admin@beta.example.com", role=Role.ADMIN)


@pytest.fixture
def allowed_accounts(settings: Any, account_a: SandboxAccount, account_b: SandboxAccount) -> list[str]:
    settings.ZOOMADMIN_ALLOWED_ACCOUNTS = [account_a.zoom_id, account_b.zoom_id]
    return settings.ZOOMADMIN_ALLOWED_ACCOUNTS


@pytest.fixture
def visitor(client: Client) -> Client:
    """A signed-out visitor of the dashboard."""
    return client


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


@pytest.fixture
def stored_connection(sandbox_app: OAuthApp, django_user_model: Any) -> Callable[..., ZoomConnection]:
    """A connection with real sandbox tokens for `user`, stored without the browser flow."""

    def make(user: SandboxUser, *, person: Any = None, expired: bool = False) -> ZoomConnection:
        issued = tokens_issue(
            app=sandbox_app,
            account=user.account,
            user=user,
            scopes=sandbox_app.scopes,
            with_refresh=True,
            revoke_previous=False,
        )
        if person is None:
            person = django_user_model.objects.create(username=f"zoom:{user.account.zoom_id}:{user.zoom_id}")
        connection = ZoomConnection(
            user=person,
            zoom_account_id=user.account.zoom_id,
            zoom_account_name=user.account.name,
            zoom_user_id=user.zoom_id,
            zoom_email=user.user_name,
            zoom_display_name=user.display_name,
            role=user.role,
        )
        expires_at = timezone.now() + timedelta(seconds=-5 if expired else issued.expires_in)
        assert issued.refresh_token is not None
        connection.tokens_set(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_at=expires_at,
            scopes=issued.scope,
        )
        connection.save()
        return connection

    return make


def rotated_refresh_tokens(user: SandboxUser) -> int:
    """How many refresh tokens of `user` the sandbox has rotated (one per successful refresh)."""
    return RefreshToken.objects.filter(user=user, rotated_at__isnull=False).count()
