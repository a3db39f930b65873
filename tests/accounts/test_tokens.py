"""Connection tokens: single-flight refresh against the sandbox, re-sign-in, encryption at rest."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db_connection
from django.db import connections
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import rotated_refresh_tokens
from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.crypto import InvalidToken
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.sandbox.models import AccessToken, RefreshToken, SandboxUser
from zoomadmin.zoom.errors import Unauthorized

pytestmark = pytest.mark.usefixtures("allowed_accounts")


def _me_email(connection: ZoomConnection) -> str:
    with zoom_client(account=connection.account, acting_as=connection, wait_for_slot=True) as client:
        return client.me().email


def test_expired_token_is_refreshed_and_stored(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a, expired=True)
    old_access, old_refresh = connection.access_token(), connection.refresh_token()
    assert _me_email(connection) == "admin@acme.example.com"
    assert rotated_refresh_tokens(admin_a) == 1
    connection.refresh_from_db()
    assert connection.access_token() != old_access
    assert connection.refresh_token() != old_refresh
    assert connection.access_expires_at > timezone.now() + timedelta(minutes=59)
    # The stored pair is the live one: refreshing with it works again.
    connection.access_expires_at = timezone.now()
    connection.save()
    assert _me_email(connection) == "admin@acme.example.com"
    assert rotated_refresh_tokens(admin_a) == 2


def test_token_expiring_within_a_minute_is_refreshed_first(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a)
    connection.access_expires_at = timezone.now() + timedelta(seconds=30)
    connection.save()
    assert _me_email(connection) == "admin@acme.example.com"
    assert rotated_refresh_tokens(admin_a) == 1


def test_token_rejected_by_zoom_is_refreshed(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a)
    AccessToken.objects.update(revoked_at=timezone.now())
    assert _me_email(connection) == "admin@acme.example.com"
    assert rotated_refresh_tokens(admin_a) == 1


def test_a_token_refreshed_elsewhere_is_reused(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a, expired=True)
    stale = ZoomConnection.objects.get(pk=connection.pk)
    assert _me_email(connection) == "admin@acme.example.com"
    # `stale` still holds the pre-refresh pair, as another process would.
    assert _me_email(stale) == "admin@acme.example.com"
    assert rotated_refresh_tokens(admin_a) == 1


def test_refused_refresh_marks_needs_reauth_and_shows_banner(
    stored_connection: Callable[..., ZoomConnection],
    sign_in: Callable[..., Any],
    admin_a: SandboxUser,
) -> None:
    connection = stored_connection(admin_a, expired=True)
    RefreshToken.objects.update(revoked_at=timezone.now())
    with pytest.raises(Unauthorized):
        _me_email(connection)
    connection.refresh_from_db()
    assert connection.status == "needs_reauth"
    # Later calls fail fast, without asking Zoom again.
    with pytest.raises(Unauthorized):
        _me_email(connection)

    browser = Client()
    browser.force_login(connection.user)
    page = browser.get("/", follow=True).content.decode()
    assert "Sign in with Zoom again" in page
    assert "Acme Corp" in page
    # The banner's button runs the link flow for the same account and revives the connection.
    relinked = sign_in(browser, admin_a, start="/link")
    assert relinked.status_code == 302
    connection.refresh_from_db()
    assert connection.status == "active"
    assert _me_email(connection) == "admin@acme.example.com"
    assert "Sign in with Zoom again" not in browser.get("/", follow=True).content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_callers_refresh_once(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    if db_connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (select_for_update); SQLite serialises differently")
    connection = stored_connection(admin_a, expired=True)
    callers = 8
    barrier = threading.Barrier(callers)
    emails: list[str] = []
    errors: list[Exception] = []

    def call() -> None:
        try:
            mine = ZoomConnection.objects.get(pk=connection.pk)
            barrier.wait(timeout=30)
            emails.append(_me_email(mine))
        except Exception as exc:  # noqa: BLE001  # reported to the test thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert emails == ["admin@acme.example.com"] * callers
    assert rotated_refresh_tokens(admin_a) == 1
    connection.refresh_from_db()
    assert connection.status == "active"


def test_tokens_are_encrypted_at_rest(stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser) -> None:
    connection = stored_connection(admin_a)
    access, refresh = connection.access_token(), connection.refresh_token()
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM accounts_zoomconnection WHERE id = %s",
            [connection.pk],
        )
        raw_access, raw_refresh = cursor.fetchone()
    assert access not in raw_access
    assert refresh not in raw_refresh
    assert raw_access.startswith("gAAAAA")  # a Fernet token
    assert access not in repr(connection)
    assert access not in str(connection)


def test_admin_page_does_not_show_tokens(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser, admin_client: Client
) -> None:
    connection = stored_connection(admin_a)
    page = admin_client.get(f"/admin/accounts/zoomconnection/{connection.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "admin@acme.example.com" in body
    assert connection.access_token() not in body
    assert connection.access_token_encrypted not in body
    assert connection.refresh_token_encrypted not in body


def test_key_rotation(
    settings: Any, stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    first, second = stored_connection(admin_a), stored_connection(admin_b)
    tokens = {c.pk: (c.access_token(), c.refresh_token()) for c in (first, second)}

    # 1. New key in front: old values still readable, new values use the new key.
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"
    assert ZoomConnection.objects.get(pk=first.pk).access_token() == tokens[first.pk][0]
    # 2. Re-encrypt everything.
    out = StringIO()
    call_command("rotate_tokens", stdout=out)
    assert "2 Zoom connection(s)" in out.getvalue()
    # 3. Old key removed: every token still opens.
    settings.FIELD_ENCRYPTION_KEY = new_key
    for connection in ZoomConnection.objects.all():
        assert (connection.access_token(), connection.refresh_token()) == tokens[connection.pk]
    assert _me_email(ZoomConnection.objects.get(pk=first.pk)) == "admin@acme.example.com"


def test_removing_a_key_too_early_is_reported(
    settings: Any, stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    connection = stored_connection(admin_a)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(InvalidToken):
        ZoomConnection.objects.get(pk=connection.pk).access_token()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=f"connection {connection.pk}"):
        call_command("rotate_tokens", stdout=StringIO())


def test_tokens_stay_out_of_logs(
    caplog: pytest.LogCaptureFixture, stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a, expired=True)
    secrets = {connection.access_token(), connection.refresh_token()}
    RefreshToken.objects.update(revoked_at=timezone.now())
    with caplog.at_level("DEBUG"), pytest.raises(Unauthorized):
        _me_email(connection)
    assert caplog.records  # the refusal is logged ...
    assert not any(secret in caplog.text for secret in secrets)  # ... without the tokens
