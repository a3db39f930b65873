"""`GET /v2/users/me`: who the token belongs to, and the gateway's token and scope checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx2
import pytest
from django.utils import timezone

from zoomadmin.sandbox.models import AccessToken, SandboxAccount, SandboxUser


def me(http: httpx2.Client, token: str) -> httpx2.Response:
    return http.get("/v2/users/me", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    ("persona", "role"), [("sandbox_owner", "Owner"), ("sandbox_admin", "Admin"), ("sandbox_member", "Member")]
)
def test_me_describes_the_authorizing_user(
    request: pytest.FixtureRequest,
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    make_token: Callable[..., str],
    persona: str,
    role: str,
) -> None:
    user: SandboxUser = request.getfixturevalue(persona)

    response = me(sandbox_http, make_token(sandbox_account, user))

    assert response.status_code == 200
    assert response.json() == {
        "id": user.zoom_id,
        "email": user.user_name,
        "first_name": user.given_name,
        "last_name": user.family_name,
        "display_name": user.display_name,
        "account_id": sandbox_account.zoom_id,
        "role_name": role,
        "type": 1,
        "status": "active",
        "company": sandbox_account.name,
    }
    assert response.headers["X-RateLimit-Category"] == "Light"


def test_licensed_user_is_type_2(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
) -> None:
    user = make_sandbox_user(sandbox_account, user_type="Licensed")

    assert me(sandbox_http, make_token(sandbox_account, user)).json()["type"] == 2


def test_token_without_user_answers_for_the_account_owner(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_admin: SandboxUser,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    response = me(sandbox_http, make_token(sandbox_account, None, scopes="scim2:admin user:read:admin"))

    assert response.status_code == 200
    assert response.json()["email"] == "owner@acme.example.com"


@pytest.mark.parametrize("scope", ["user:read", "user:read:admin", "user_info:read", "user:read:user"])
def test_each_user_read_scope_is_enough(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_member: SandboxUser,
    make_token: Callable[..., str],
    scope: str,
) -> None:
    assert me(sandbox_http, make_token(sandbox_account, sandbox_member, scopes=scope)).status_code == 200


def test_scim_only_token_is_refused_with_4711(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    response = me(sandbox_http, make_token(sandbox_account, sandbox_owner, scopes="scim2"))

    assert response.status_code == 401
    assert response.json()["code"] == 4711
    assert "user:read" in response.json()["message"]


def test_expired_token_is_refused_with_124(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    token = make_token(sandbox_account, sandbox_owner)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = me(sandbox_http, token)

    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}


def test_missing_token_is_refused_with_124(sandbox_http: httpx2.Client) -> None:
    response = sandbox_http.get("/v2/users/me")

    assert response.status_code == 401
    assert response.json()["code"] == 124


def test_a_deactivated_users_token_stops_working(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_member: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    token = make_token(sandbox_account, sandbox_member)
    assert me(sandbox_http, token).status_code == 200

    sandbox_member.status = "inactive"
    sandbox_member.save()

    response = me(sandbox_http, token)
    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}
