"""Zoom's OAuth server as a client written from `shared/reference/zoom-oauth-ratelimits.md` sees it.

Raw HTTP (httpx2) against the live server under the sandbox's host name: the consent form is
fetched and posted like a browser would, codes are exchanged with HTTP Basic client auth, and
every refusal is checked for Zoom's `{"reason": ..., "error": ...}` body (§2.7).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from zoomadmin.sandbox.models import OAuthApp, SandboxAccount, SandboxUser

pytestmark = pytest.mark.django_db(transaction=True)

SANDBOX_HOST = "sandbox.test"
REDIRECT_URI = "http://testserver/accounts/callback"  # registered on the `sandbox_app` fixture
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"


@pytest.fixture
def http(live_server: Any, settings: Any) -> Iterator[httpx2.Client]:
    """A cookie-keeping client to the sandbox host on the live server (no redirects followed)."""
    # Zoom is HTTPS; the live server is plain HTTP, where a client keeps no Secure cookie.
    settings.CSRF_COOKIE_SECURE = False
    with httpx2.Client(base_url=live_server.url, headers={"Host": SANDBOX_HOST}, timeout=30) as client:
        yield client


@pytest.fixture
def s2s_app(sandbox_account: SandboxAccount) -> OAuthApp:
    """A Server-to-Server app of the account, as registered in the Marketplace (§2.4)."""
    return OAuthApp.objects.create(
        name="Provisioning (S2S)",
        kind=OAuthApp.Kind.S2S,
        client_id="s2s-client-id",
        client_secret="s2s-client-secret",
        account=sandbox_account,
        scopes="scim2:admin",
    )


def basic(client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize(http: httpx2.Client, *, user_name: str, challenge: str, state: str) -> str:
    """Walk the consent page like a person (§2.1) and return the code from the redirect."""
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = http.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = http.post(
        "/oauth/authorize",
        params=params,
        data={"csrfmiddlewaretoken": csrf[1], "user": user_name, "decision": "authorize"},
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(http: httpx2.Client, *, code: str, verifier: str) -> httpx2.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    return http.post("/oauth/token", data=data, headers=basic())


def refresh(http: httpx2.Client, refresh_token: str) -> httpx2.Response:
    return http.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}, headers=basic()
    )


def scim_status(http: httpx2.Client, access_token: str) -> httpx2.Response:
    return http.get("/scim2/Users", headers={"Authorization": f"Bearer {access_token}"})


def assert_oauth_error(response: httpx2.Response, error: str, reason: str | None = None) -> None:
    """§2.7: the token endpoint refuses with exactly `{"reason", "error"}`; status 400 or 401."""
    assert response.status_code in (400, 401)
    body = response.json()
    assert set(body) == {"reason", "error"}
    assert body["error"] == error
    assert body["reason"]
    if reason is not None:
        assert body["reason"] == reason


def test_authorization_code_with_pkce_gives_zooms_token_response(
    http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    verifier, challenge = pkce_pair()
    code = authorize(http, user_name=sandbox_owner.user_name, challenge=challenge, state="xyz-123")
    response = exchange(http, code=code, verifier=verifier)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]
    assert body["refresh_token"]
    assert set(body["scope"].split()) == {"scim2:admin", "user:read:user"}
    assert scim_status(http, body["access_token"]).status_code == 200

    me = http.get("/v2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == sandbox_owner.user_name
    assert me.json()["account_id"] == sandbox_owner.account.zoom_id
    assert me.json()["role_name"] == "Owner"


def test_a_code_works_once(http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser) -> None:
    verifier, challenge = pkce_pair()
    code = authorize(http, user_name=sandbox_owner.user_name, challenge=challenge, state="s")
    assert exchange(http, code=code, verifier=verifier).status_code == 200
    # The reference's own example error body (§2.10).
    again = exchange(http, code=code, verifier=verifier)
    assert again.json() == {"reason": "Invalid authorization code", "error": "invalid_grant"}


def test_a_wrong_code_verifier_is_invalid_grant(
    http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    _, challenge = pkce_pair()
    code = authorize(http, user_name=sandbox_owner.user_name, challenge=challenge, state="s")
    assert_oauth_error(exchange(http, code=code, verifier=pkce_pair()[0]), "invalid_grant")


def test_refresh_rotates_and_the_old_refresh_token_is_invalid_token(
    http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    verifier, challenge = pkce_pair()
    first = exchange(
        http, code=authorize(http, user_name=sandbox_owner.user_name, challenge=challenge, state="s"), verifier=verifier
    ).json()
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["expires_in"] == 3600
    assert scim_status(http, rotated["access_token"]).status_code == 200
    # §2.2: "the latest refresh token must always be used"; the old one gets "Invalid Token!".
    assert_oauth_error(refresh(http, first["refresh_token"]), "invalid_grant", "Invalid Token!")
    assert refresh(http, rotated["refresh_token"]).status_code == 200


def test_reauthorizing_revokes_the_earlier_access_token(
    http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    # §2.3: "the last token issued is considered valid, and the previous ones are invalidated".
    tokens = []
    for state in ("one", "two"):
        verifier, challenge = pkce_pair()
        code = authorize(http, user_name=sandbox_owner.user_name, challenge=challenge, state=state)
        tokens.append(exchange(http, code=code, verifier=verifier).json()["access_token"])
    old = scim_status(http, tokens[0])
    assert old.status_code == 401
    assert old.json() == {"code": 124, "message": "Invalid access token."}
    assert scim_status(http, tokens[1]).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [basic(CLIENT_ID, "wrong-secret"), basic("unknown-client", CLIENT_SECRET), {}],
    ids=["wrong-secret", "unknown-client", "no-credentials"],
)
def test_bad_client_credentials_are_refused(
    http: httpx2.Client, sandbox_app: OAuthApp, headers: dict[str, str]
) -> None:
    response = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, headers=headers)
    assert_oauth_error(response, "invalid_client")


def test_an_unknown_grant_type_is_refused(http: httpx2.Client, sandbox_app: OAuthApp) -> None:
    response = http.post("/oauth/token", data={"grant_type": "password"}, headers=basic())
    assert_oauth_error(response, "unsupported_grant_type")


def test_account_credentials_token_has_no_refresh_token(
    http: httpx2.Client, s2s_app: OAuthApp, sandbox_account: SandboxAccount, sandbox_owner: SandboxUser
) -> None:
    response = http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": sandbox_account.zoom_id},
        headers=basic("s2s-client-id", "s2s-client-secret"),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body
    assert scim_status(http, body["access_token"]).status_code == 200


def test_account_credentials_for_an_unknown_account_is_refused(http: httpx2.Client, s2s_app: OAuthApp) -> None:
    response = http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": "no-such-account"},
        headers=basic("s2s-client-id", "s2s-client-secret"),
    )
    assert_oauth_error(response, "invalid_request")


def test_revoke_answers_success_and_the_token_stops_working(
    http: httpx2.Client, s2s_app: OAuthApp, sandbox_account: SandboxAccount, sandbox_owner: SandboxUser
) -> None:
    credentials = basic("s2s-client-id", "s2s-client-secret")
    grant = {"grant_type": "account_credentials", "account_id": sandbox_account.zoom_id}
    token = http.post("/oauth/token", data=grant, headers=credentials).json()["access_token"]
    response = http.post("/oauth/revoke", data={"token": token}, headers=credentials)
    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    refused = scim_status(http, token)
    assert refused.status_code == 401
    assert refused.json() == {"code": 124, "message": "Invalid access token."}
