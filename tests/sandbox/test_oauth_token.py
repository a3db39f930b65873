"""`/oauth/token` client authentication, refresh rotation, account credentials and `/oauth/revoke`."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from django.test import Client
from django.utils import timezone

from tests.sandbox.test_oauth_authorize import code_for, exchange
from zoomadmin.sandbox.models import OAuthApp, RefreshToken, SandboxAccount, SandboxUser, UserStatus


@pytest.fixture
def tokens(client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser) -> Any:
    """The owner's first token response from the authorization-code grant."""
    response = exchange(sandbox_http, sandbox_app, code_for(client, sandbox_app, sandbox_owner))
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def s2s_app(sandbox_account: SandboxAccount) -> OAuthApp:
    return OAuthApp.objects.create(
        name="S2S",
        kind=OAuthApp.Kind.S2S,
        client_id="s2s-client",
        client_secret="s2s-secret",
        account=sandbox_account,
        scopes="scim2:admin user:read:admin",
    )


def refresh(http: httpx2.Client, app: OAuthApp, token: str) -> httpx2.Response:
    return http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(app.client_id, app.client_secret),
    )


def me(http: httpx2.Client, access_token: str) -> httpx2.Response:
    return http.get("/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


def account_token(http: httpx2.Client, app: OAuthApp, account_id: str) -> httpx2.Response:
    return http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": account_id},
        auth=(app.client_id, app.client_secret),
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic " + base64.b64encode(b"test-client-id:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"nobody:test-client-secret").decode()},
        {"Authorization": "Basic !!!not-base64"},
        {},
    ],
)
def test_bad_client_authentication_is_401(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, headers: dict[str, str]
) -> None:
    response = sandbox_http.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_credentials_as_form_fields_and_params_in_query_string(
    sandbox_http: httpx2.Client, s2s_app: OAuthApp, sandbox_account: SandboxAccount, sandbox_owner: SandboxUser
) -> None:
    in_form = sandbox_http.post(
        "/oauth/token",
        data={
            "grant_type": "account_credentials",
            "account_id": sandbox_account.zoom_id,
            "client_id": s2s_app.client_id,
            "client_secret": s2s_app.client_secret,
        },
    )
    in_query = sandbox_http.post(
        "/oauth/token",
        params={"grant_type": "account_credentials", "account_id": sandbox_account.zoom_id},
        auth=(s2s_app.client_id, s2s_app.client_secret),
    )

    assert in_form.status_code == 200, in_form.text
    assert in_query.status_code == 200, in_query.text


@pytest.mark.parametrize(("grant_type", "error"), [("password", "unsupported_grant_type"), ("", "invalid_request")])
def test_unsupported_or_missing_grant_type(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, grant_type: str, error: str
) -> None:
    response = sandbox_http.post(
        "/oauth/token", data={"grant_type": grant_type}, auth=(sandbox_app.client_id, sandbox_app.client_secret)
    )

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_refresh_rotates_and_the_old_refresh_token_dies(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    rotated = refresh(sandbox_http, sandbox_app, tokens["refresh_token"])

    assert rotated.status_code == 200
    body = rotated.json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["scope"] == "scim2:admin user:read:user"
    assert me(sandbox_http, body["access_token"]).status_code == 200
    stale = refresh(sandbox_http, sandbox_app, tokens["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    assert refresh(sandbox_http, sandbox_app, body["refresh_token"]).status_code == 200


def test_refresh_reuse_tolerance_allows_that_many_stale_uses(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_account: SandboxAccount, tokens: dict[str, Any]
) -> None:
    sandbox_account.refresh_reuse_tolerance = 1
    sandbox_account.save()
    assert refresh(sandbox_http, sandbox_app, tokens["refresh_token"]).status_code == 200

    assert refresh(sandbox_http, sandbox_app, tokens["refresh_token"]).status_code == 200
    assert refresh(sandbox_http, sandbox_app, tokens["refresh_token"]).status_code == 400


def test_expired_refresh_token_is_refused(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = refresh(sandbox_http, sandbox_app, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_token_lifetime_follows_the_account(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    account = sandbox_owner.account
    account.refresh_token_lifetime_days = 15 * 365
    account.access_token_lifetime_seconds = 600
    account.save()

    body = exchange(sandbox_http, sandbox_app, code_for(client, sandbox_app, sandbox_owner)).json()

    assert body["expires_in"] == 600
    assert RefreshToken.objects.get().expires_at > timezone.now() + timedelta(days=15 * 365 - 1)


def test_refresh_token_of_a_deactivated_user_stops_working(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser, tokens: dict[str, Any]
) -> None:
    SandboxUser.objects.filter(pk=sandbox_owner.pk).update(status=UserStatus.INACTIVE)

    assert refresh(sandbox_http, sandbox_app, tokens["refresh_token"]).status_code == 400


def test_refresh_token_of_another_app_is_refused(
    sandbox_http: httpx2.Client, s2s_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    assert refresh(sandbox_http, s2s_app, tokens["refresh_token"]).status_code == 400


def test_refresh_is_refused_after_the_app_scopes_change(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    sandbox_app.scopes = "scim2:admin user:read:user user:write:admin"
    sandbox_app.save()

    response = refresh(sandbox_http, sandbox_app, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_revoking_the_access_token_kills_its_refresh_token(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    response = sandbox_http.post(
        "/oauth/revoke", data={"token": tokens["access_token"]}, auth=(sandbox_app.client_id, sandbox_app.client_secret)
    )

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    denied = me(sandbox_http, tokens["access_token"])
    assert denied.status_code == 401
    assert denied.json()["code"] == 124
    stale = refresh(sandbox_http, sandbox_app, tokens["refresh_token"])
    assert stale.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}


def test_revoking_the_refresh_token_kills_its_access_token(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    response = sandbox_http.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"]},
        auth=(sandbox_app.client_id, sandbox_app.client_secret),
    )

    assert response.json() == {"status": "success"}
    assert me(sandbox_http, tokens["access_token"]).status_code == 401
    assert refresh(sandbox_http, sandbox_app, tokens["refresh_token"]).status_code == 400


def test_revoke_answers_success_for_unknown_tokens_but_checks_the_client(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp
) -> None:
    unknown = sandbox_http.post(
        "/oauth/revoke", data={"token": "never-issued"}, auth=(sandbox_app.client_id, sandbox_app.client_secret)
    )
    bad_client = sandbox_http.post("/oauth/revoke", data={"token": "never-issued"}, auth=(sandbox_app.client_id, "no"))

    assert unknown.status_code == 200
    assert unknown.json() == {"status": "success"}
    assert bad_client.status_code == 401


def test_revoke_by_another_app_leaves_the_token_alone(
    sandbox_http: httpx2.Client, s2s_app: OAuthApp, tokens: dict[str, Any]
) -> None:
    response = sandbox_http.post(
        "/oauth/revoke", data={"token": tokens["access_token"]}, auth=(s2s_app.client_id, s2s_app.client_secret)
    )

    assert response.json() == {"status": "success"}
    assert me(sandbox_http, tokens["access_token"]).status_code == 200


def test_account_credentials_give_the_owner_token_without_refresh(
    sandbox_http: httpx2.Client, s2s_app: OAuthApp, sandbox_account: SandboxAccount, sandbox_owner: SandboxUser
) -> None:
    response = account_token(sandbox_http, s2s_app, sandbox_account.zoom_id)

    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body
    assert body["token_type"] == "bearer"
    assert body["scope"] == "scim2:admin user:read:admin"
    assert body["expires_in"] == 3600
    who = me(sandbox_http, body["access_token"]).json()
    assert who["email"] == "owner@acme.example.com"
    assert who["role_name"] == "Owner"


def test_account_credentials_for_another_account_are_refused(
    sandbox_http: httpx2.Client, s2s_app: OAuthApp, make_sandbox_account: Any
) -> None:
    other = make_sandbox_account()

    for account_id in (other.zoom_id, ""):
        response = account_token(sandbox_http, s2s_app, account_id)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_user_app_cannot_use_account_credentials(
    sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_account: SandboxAccount
) -> None:
    response = account_token(sandbox_http, sandbox_app, sandbox_account.zoom_id)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize("revokes", [False, True])
def test_new_s2s_token_revokes_the_previous_one_only_when_the_knob_is_on(
    sandbox_http: httpx2.Client,
    s2s_app: OAuthApp,
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    revokes: bool,
) -> None:
    sandbox_account.s2s_new_token_revokes_previous = revokes
    sandbox_account.save()
    first = account_token(sandbox_http, s2s_app, sandbox_account.zoom_id).json()["access_token"]

    second = account_token(sandbox_http, s2s_app, sandbox_account.zoom_id).json()["access_token"]

    assert me(sandbox_http, second).status_code == 200
    assert me(sandbox_http, first).status_code == (401 if revokes else 200)


def test_disabled_s2s_app_gets_no_token(
    sandbox_http: httpx2.Client, s2s_app: OAuthApp, sandbox_account: SandboxAccount
) -> None:
    s2s_app.active = False
    s2s_app.save()

    response = account_token(sandbox_http, s2s_app, sandbox_account.zoom_id)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
