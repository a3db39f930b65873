"""Fixtures of the plan tests: account A's sandbox users and groups, its mirror synced, admin A's connection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.directory.models import DirectoryUser, UserStatus
from zoomadmin.directory.sync import sync_execute, sync_request
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser
from zoomadmin.sandbox.models import UserStatus as SandboxStatus

CORPUS = Path(__file__).parent / "plan_corpus"


@pytest.fixture
def connection(
    stored_connection: Callable[..., ZoomConnection],
    admin_a: SandboxUser,
    sandbox_owner: SandboxUser,
    sandbox_member: SandboxUser,
    sandbox_pending: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
    account_a: SandboxAccount,
    settings: Any,
    tmp_path: Path,
) -> ZoomConnection:
    """Admin A's connection, with account A's mirror synced: the users and groups the corpus names.

    Uploads kept for column mapping go to this test's own directory.
    """
    settings.VAR_DIR = tmp_path
    make_sandbox_user(account_a, user_name="member2@acme.example.com")
    make_sandbox_user(account_a, user_name="deleteme@acme.example.com")
    make_sandbox_user(account_a, user_name="leaver@acme.example.com", status=SandboxStatus.INACTIVE)
    keep = make_sandbox_user(
        account_a, user_name="keep@acme.example.com", given_name="Keep", family_name="Same", department="Support"
    )
    sales = SandboxGroup.objects.create(account=account_a, display_name="Sales")
    sales.members.add(keep)
    connection = stored_connection(admin_a)
    sync_execute(run_id=sync_request(account=connection.account).pk)
    # Enrichment learns who is pending (Zoom's List users says only "inactive"); as it would have.
    DirectoryUser.objects.filter(account=connection.account, email=sandbox_pending.user_name.lower()).update(
        status=UserStatus.PENDING, active=False
    )
    return connection


@pytest.fixture
def admin(connection: ZoomConnection) -> Client:
    """A test client signed in as admin A (the `connection` fixture's person), working on account A."""
    client = Client()
    client.force_login(connection.user)
    session = client.session
    session[CURRENT_SESSION_KEY] = connection.pk
    session.save()
    return client
