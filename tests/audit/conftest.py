"""Audit tests: account A's and B's admins with stored connections, and events written through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditEvent, AuditTarget
from zoomadmin.audit.services import audit_record
from zoomadmin.sandbox.models import SandboxUser


@pytest.fixture(autouse=True)
def _zoom(zoom_settings: None, allowed_accounts: list[str]) -> None:
    """Every audit test talks to the in-process sandbox, with accounts A and B allowed."""


@pytest.fixture
def connection_a(stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser) -> ZoomConnection:
    """Admin A's connection (the person it belongs to is the one `client_a` signs in as)."""
    return stored_connection(admin_a)


@pytest.fixture
def connection_b(stored_connection: Callable[..., ZoomConnection], admin_b: SandboxUser) -> ZoomConnection:
    return stored_connection(admin_b)


@pytest.fixture
def record() -> Callable[..., AuditEvent]:
    """`record(connection, **fields)`: one event on the connection's account (a user update by default)."""

    def make(connection: ZoomConnection, **fields: Any) -> AuditEvent:
        values: dict[str, Any] = {
            "action": AuditAction.USER_UPDATE,
            "target_type": AuditTarget.USER,
            "target_zoom_id": "u-1",
            "target_label": "jill@acme.example.com",
            "changes": {"title": ["Engineer", "Lead"]},
        }
        values.update(fields)
        return audit_record(account=connection.account, actor=connection, **values)

    return make


def client_of(connection: ZoomConnection) -> Client:
    """A dashboard test client signed in as the person holding `connection`, working on its account."""
    client = Client()
    client.force_login(connection.user)
    session = client.session
    session[CURRENT_SESSION_KEY] = connection.pk
    session.save()
    return client


@pytest.fixture
def client_a(connection_a: ZoomConnection) -> Client:
    return client_of(connection_a)


@pytest.fixture
def client_b(connection_b: ZoomConnection) -> Client:
    return client_of(connection_b)
