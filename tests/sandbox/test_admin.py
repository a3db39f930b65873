"""The sandbox's Django admin: knobs with their bounds, write-only secrets, hidden token digests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from zoomadmin.sandbox.knobs import knob_fields
from zoomadmin.sandbox.models import AccessToken, OAuthApp, SandboxAccount, SandboxUser, token_digest

MakeAccount = Callable[..., SandboxAccount]


def _account_form(account: SandboxAccount, **changes: Any) -> dict[str, Any]:
    """The change form as a browser would post it, with `changes` applied."""
    data: dict[str, Any] = {}
    for field in knob_fields():
        value = changes.get(field.name, getattr(account, field.name))
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
        else:
            data[field.name] = str(value)
    return data


def test_account_list_and_change_page(admin_client: Client, make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(name="Initech", plan="free", rate_limits_enabled=True)
    listing = admin_client.get("/admin/sandbox/sandboxaccount/")
    assert listing.status_code == 200
    assert "Initech" in listing.text
    assert account.zoom_id in listing.text
    page = admin_client.get(f"/admin/sandbox/sandboxaccount/{account.pk}/change/")
    assert page.status_code == 200
    assert "Latency and faults" in page.text
    assert "Light: 0 of 6000" in page.text


def test_knobs_are_saved(admin_client: Client, make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(name="Initech")
    response = admin_client.post(
        f"/admin/sandbox/sandboxaccount/{account.pk}/change/",
        _account_form(account, error_rate="0.2", legacy_scim_one_rps=True, plan="pro"),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.error_rate, account.legacy_scim_one_rps, account.plan) == (0.2, True, "pro")


def test_out_of_bounds_knobs_are_refused(admin_client: Client, make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(name="Initech")
    response = admin_client.post(
        f"/admin/sandbox/sandboxaccount/{account.pk}/change/",
        _account_form(account, error_rate="1.5", timeout_rate="-1", page_default_count="1000"),
    )
    assert response.status_code == 200
    assert "must be between 0.0 and 1.0" in response.text
    assert "must not exceed page_max_count" in response.text
    account.refresh_from_db()
    assert account.error_rate == 0.0
    assert account.timeout_rate == 0.0


def test_client_secret_is_never_shown(admin_client: Client, sandbox_app: OAuthApp) -> None:
    listing = admin_client.get("/admin/sandbox/oauthapp/")
    assert listing.status_code == 200
    assert sandbox_app.client_id in listing.text
    assert sandbox_app.client_secret not in listing.text
    page = admin_client.get(f"/admin/sandbox/oauthapp/{sandbox_app.pk}/change/")
    assert page.status_code == 200
    assert "Write-only" in page.text
    assert sandbox_app.client_secret not in page.text


def _app_form(app: OAuthApp, **changes: str) -> dict[str, str]:
    data = {
        "name": app.name,
        "kind": app.kind,
        "client_id": app.client_id,
        "account": "",
        "redirect_uris": app.redirect_uris,
        "scopes": app.scopes,
        "active": "on",
        "created_0": "2025-01-01",
        "created_1": "00:00:00",
        "new_client_secret": "",
    }
    data.update(changes)
    return data


def test_client_secret_is_write_only(admin_client: Client, sandbox_app: OAuthApp) -> None:
    url = f"/admin/sandbox/oauthapp/{sandbox_app.pk}/change/"
    kept = admin_client.post(url, _app_form(sandbox_app, name="Renamed"))
    assert kept.status_code == 302
    sandbox_app.refresh_from_db()
    assert (sandbox_app.name, sandbox_app.client_secret) == ("Renamed", "test-client-secret")

    changed = admin_client.post(url, _app_form(sandbox_app, new_client_secret="a-brand-new-secret"))
    assert changed.status_code == 302
    sandbox_app.refresh_from_db()
    assert sandbox_app.client_secret == "a-brand-new-secret"


def test_new_app_needs_a_secret(admin_client: Client, db: None) -> None:
    app = OAuthApp(name="New", client_id="new-id", redirect_uris="", scopes="scim2:admin")
    response = admin_client.post("/admin/sandbox/oauthapp/add/", _app_form(app))
    assert response.status_code == 200
    assert "A new app needs a client secret." in response.text
    assert not OAuthApp.objects.filter(client_id="new-id").exists()


def test_tokens_are_listed_without_digests_and_can_be_revoked(
    admin_client: Client,
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    raw = make_token(sandbox_account, sandbox_owner)
    token = AccessToken.objects.get(token_digest=token_digest(raw))
    listing = admin_client.get("/admin/sandbox/accesstoken/")
    assert listing.status_code == 200
    assert sandbox_owner.user_name in listing.text
    assert token.token_digest not in listing.text
    assert raw not in listing.text
    detail = admin_client.get(f"/admin/sandbox/accesstoken/{token.pk}/change/")
    assert detail.status_code == 200
    assert token.token_digest not in detail.text

    response = admin_client.post(
        "/admin/sandbox/accesstoken/", {"action": "revoke", "_selected_action": [str(token.pk)]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_users_and_groups_pages(admin_client: Client, sandbox_owner: SandboxUser) -> None:
    users = admin_client.get("/admin/sandbox/sandboxuser/?q=owner")
    assert users.status_code == 200
    assert sandbox_owner.user_name in users.text
    groups = admin_client.get("/admin/sandbox/sandboxgroup/")
    assert groups.status_code == 200
    assert "Default group" in groups.text
