"""Shared fixtures: sandbox accounts, users, apps and tokens, and HTTP clients to the sandbox.

Tests reach the sandbox through the in-process transport (`sandbox_http`, no sockets) or, for
browser tests, through pytest-django's live server under the `sandbox.localhost` host name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus
from zoomadmin.sandbox.tokens import tokens_issue
from zoomadmin.sandbox.transport import sandbox_transport

pytest_plugins = ["tests.personas"]

SANDBOX_BASE_URL = "http://sandbox.test"
_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _sandbox_hosts(settings: Any) -> None:
    settings.SANDBOX_HOSTS = ["sandbox.test", "sandbox.localhost"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "sandbox.test", "testserver"]
    # Templates resolve {% static %} from the source tree; production uses the hashed manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def make_sandbox_account(db: None) -> Callable[..., SandboxAccount]:
    """Create a sandbox account; keyword arguments set its knobs. Rate limits are off unless asked for."""

    def make(**knobs: Any) -> SandboxAccount:
        n = next(_counter)
        knobs.setdefault("rate_limits_enabled", False)
        account = SandboxAccount.objects.create(
            name=knobs.pop("name", f"Account {n}"),
            vanity_domain=knobs.pop("vanity_domain", f"acct{n}.example.com"),
            **knobs,
        )
        SandboxGroup.objects.create(account=account, display_name="Default group", is_default=True)
        return account

    return make


@pytest.fixture
def make_sandbox_user(db: None) -> Callable[..., SandboxUser]:
    """Create a sandbox user of an account (`role`, `status` and any attribute as keywords)."""

    def make(account: SandboxAccount, **attrs: Any) -> SandboxUser:
        n = next(_counter)
        attrs.setdefault("user_name", f"user{n}@{account.vanity_domain}")
        attrs.setdefault("given_name", f"Given{n}")
        attrs.setdefault("family_name", f"Family{n}")
        attrs.setdefault("display_name", f"{attrs['given_name']} {attrs['family_name']}")
        return SandboxUser.objects.create(account=account, **attrs)

    return make


@pytest.fixture
def sandbox_account(make_sandbox_account: Callable[..., SandboxAccount]) -> SandboxAccount:
    return make_sandbox_account(name="Acme Corp", vanity_domain="acme.example.com")


@pytest.fixture
def sandbox_owner(sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    return make_sandbox_user(sandbox_account, user_name="owner@acme.example.com", role=Role.OWNER)


@pytest.fixture
def sandbox_admin(sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    return make_sandbox_user(sandbox_account, user_name="admin@acme.example.com", role=Role.ADMIN)


@pytest.fixture
def sandbox_member(sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    return make_sandbox_user(sandbox_account, user_name="member@acme.example.com", role=Role.MEMBER)


@pytest.fixture
def sandbox_pending(sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    return make_sandbox_user(sandbox_account, user_name="invited@acme.example.com", status=UserStatus.PENDING)


@pytest.fixture
def sandbox_app(db: None) -> OAuthApp:
    """The dashboard registered as a user-level OAuth app."""
    return OAuthApp.objects.create(
        name="zoomadmin (tests)",
        kind=OAuthApp.Kind.USER,
        client_id="test-client-id",
        client_secret="test-client-secret",
        redirect_uris="http://testserver/accounts/callback\nhttp://localhost/accounts/callback",
        scopes="scim2:admin user:read:user",
    )


@pytest.fixture
def make_token(sandbox_app: OAuthApp) -> Callable[..., str]:
    """A raw access token for `user` (or the account, server-to-server style) with `scopes`."""

    def make(
        account: SandboxAccount, user: SandboxUser | None = None, scopes: str = "scim2:admin user:read:user"
    ) -> str:
        issued = tokens_issue(
            app=sandbox_app, account=account, user=user, scopes=scopes, with_refresh=False, revoke_previous=False
        )
        return issued.access_token

    return make


@pytest.fixture
def sandbox_http(db: None) -> Iterator[httpx2.Client]:
    """An unauthenticated HTTP client to the in-process sandbox."""
    with httpx2.Client(transport=sandbox_transport(), base_url=SANDBOX_BASE_URL) as client:
        yield client


@pytest.fixture
def scim(
    sandbox_account: SandboxAccount, sandbox_owner: SandboxUser, make_token: Callable[..., str]
) -> Iterator[httpx2.Client]:
    """A client to the in-process sandbox holding the account owner's `scim2:admin` token."""
    token = make_token(sandbox_account, sandbox_owner)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
    with httpx2.Client(transport=sandbox_transport(), base_url=SANDBOX_BASE_URL, headers=headers) as client:
        yield client
