"""Personas shared by every test package (STYLE.md), on top of the sandbox fixtures of tests/conftest.py.

An admin of account A, a second admin of A, an admin of account B, a signed-out visitor; each
admin can hold a stored connection (real sandbox tokens, no browser flow) and a signed-in test
client (`signed_in`). The dashboard reaches the sandbox through the in-process transport.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxUser
from zoomadmin.sandbox.tokens import tokens_issue

SANDBOX_HOST = "sandbox.test"


@pytest.fixture
def zoom_settings(settings: Any) -> None:
    """Point the dashboard's Zoom settings at the in-process sandbox."""
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
def stored_connection(
    zoom_settings: None, sandbox_app: OAuthApp, django_user_model: Any
) -> Callable[..., ZoomConnection]:
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
        account, _ = ZoomAccount.objects.get_or_create(
            zoom_id=user.account.zoom_id, defaults={"name": user.account.name, "plan": user.account.plan}
        )
        connection = ZoomConnection(
            user=person,
            account=account,
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


@pytest.fixture
def signed_in(stored_connection: Callable[..., ZoomConnection]) -> Callable[..., Client]:
    """A dashboard test client signed in as `user` (a sandbox admin), working on that user's account."""

    def make(user: SandboxUser, *, client: Client | None = None) -> Client:
        connection = stored_connection(user)
        client = client or Client()
        client.force_login(connection.user)
        session = client.session
        session[CURRENT_SESSION_KEY] = connection.pk
        session.save()
        return client

    return make
