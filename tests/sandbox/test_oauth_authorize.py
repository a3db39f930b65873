"""The sandbox's consent page and the authorization-code grant, as a browser and a client see them."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from django.test import Client
from django.utils import timezone

from zoomadmin.sandbox.models import AuthorizationCode, OAuthApp, SandboxAccount, SandboxUser, UserStatus

REDIRECT_URI = "http://testserver/accounts/callback"
HOST = {"HTTP_HOST": "sandbox.test"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_params(app: OAuthApp, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT_URI, **extra}


def consent(client: Client, params: dict[str, str], *, user: str, decision: str = "authorize") -> Any:
    return client.post(f"/oauth/authorize?{urlencode(params)}", {"user": user, "decision": decision}, **HOST)


def redirect_query(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


def exchange(http: httpx2.Client, app: OAuthApp, code: str, **extra: str) -> httpx2.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    return http.post("/oauth/token", data=data, auth=(app.client_id, app.client_secret))


def code_for(client: Client, app: OAuthApp, user: SandboxUser, **extra: str) -> str:
    return redirect_query(consent(client, authorize_params(app, **extra), user=user.user_name))["code"][0]


def test_consent_page_shows_app_scopes_and_users_by_account_and_role(
    client: Client,
    sandbox_app: OAuthApp,
    sandbox_owner: SandboxUser,
    sandbox_member: SandboxUser,
    sandbox_pending: SandboxUser,
    make_sandbox_account: Any,
    make_sandbox_user: Any,
) -> None:
    other = make_sandbox_account(name="Globex")
    make_sandbox_user(other, user_name="boss@globex.example.com", role="Admin")

    response = client.get(f"/oauth/authorize?{urlencode(authorize_params(sandbox_app, state='s'))}", **HOST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "zoomadmin (tests)" in page
    assert "scim2:admin" in page
    assert "user:read:user" in page
    assert 'optgroup label="Acme Corp (' in page
    assert 'optgroup label="Globex (' in page
    assert "owner@acme.example.com · Owner" in page
    assert "member@acme.example.com · Member" in page
    assert "boss@globex.example.com · Admin" in page
    # The Owner is listed before the Member, and the pending user is shown but cannot be chosen.
    assert page.index("owner@acme.example.com") < page.index("member@acme.example.com")
    assert 'value="invited@acme.example.com" disabled>invited@acme.example.com · Member · Pending' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_consent_page_lets_the_form_redirect_to_the_client(client: Client, sandbox_app: OAuthApp) -> None:
    response = client.get(f"/oauth/authorize?{urlencode(authorize_params(sandbox_app))}", **HOST)

    assert "form-action 'self' http://testserver" in response["Content-Security-Policy"]


def test_full_code_flow_with_s256_pkce(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_admin: SandboxUser
) -> None:
    verifier, challenge = pkce_pair()
    params = authorize_params(sandbox_app, state="xyz", code_challenge=challenge, code_challenge_method="S256")

    query = redirect_query(consent(client, params, user=sandbox_admin.user_name))
    assert query["state"] == ["xyz"]
    response = exchange(sandbox_http, sandbox_app, query["code"][0], code_verifier=verifier)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "scim2:admin user:read:user"
    assert body["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"
    me = sandbox_http.get("/v2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "admin@acme.example.com"


def test_plain_pkce_is_the_default_method(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    verifier = secrets.token_urlsafe(48)
    code = code_for(client, sandbox_app, sandbox_owner, code_challenge=verifier)

    response = exchange(sandbox_http, sandbox_app, code, code_verifier=verifier)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("verifier", ["", "wrong-" + "x" * 60])
def test_wrong_or_missing_verifier_is_invalid_grant(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser, verifier: str
) -> None:
    _, challenge = pkce_pair()
    code = code_for(client, sandbox_app, sandbox_owner, code_challenge=challenge, code_challenge_method="S256")

    response = exchange(sandbox_http, sandbox_app, code, code_verifier=verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_without_pkce_works_without_verifier(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    code = code_for(client, sandbox_app, sandbox_owner)

    assert exchange(sandbox_http, sandbox_app, code).status_code == 200


def test_state_with_odd_characters_is_echoed_exactly(
    client: Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    state = 'a b+c&d=e/f?g%h#i"<j>é{"k":1}'

    granted = redirect_query(consent(client, authorize_params(sandbox_app, state=state), user=sandbox_owner.user_name))
    denied = redirect_query(
        consent(client, authorize_params(sandbox_app, state=state), user=sandbox_owner.user_name, decision="deny")
    )

    assert granted["state"] == [state]
    assert denied["state"] == [state]


def test_deny_sends_access_denied_back(client: Client, sandbox_app: OAuthApp) -> None:
    query = redirect_query(consent(client, authorize_params(sandbox_app, state="s1"), user="", decision="deny"))

    assert query["error"] == ["access_denied"]
    assert query["error_description"][0]
    assert query["state"] == ["s1"]
    assert "code" not in query


def test_redirect_uri_mismatch_is_an_error_page_not_a_redirect(client: Client, sandbox_app: OAuthApp) -> None:
    params = authorize_params(sandbox_app, redirect_uri="https://evil.example/cb")

    for response in (
        client.get(f"/oauth/authorize?{urlencode(params)}", **HOST),
        consent(client, params, user="owner@acme.example.com"),
    ):
        assert response.status_code == 400
        assert "Location" not in response
        assert "4709" in response.content.decode()
        assert "Redirect URI mismatch." in response.content.decode()


@pytest.mark.parametrize("client_id", ["nope", ""])
def test_unknown_client_is_an_error_page(client: Client, sandbox_app: OAuthApp, client_id: str) -> None:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI}

    response = client.get(f"/oauth/authorize?{urlencode(params)}", **HOST)

    assert response.status_code == 400
    assert "Location" not in response
    assert "Invalid client_id." in response.content.decode()


def test_disabled_app_is_an_error_page(client: Client, sandbox_app: OAuthApp) -> None:
    sandbox_app.active = False
    sandbox_app.save()

    response = client.get(f"/oauth/authorize?{urlencode(authorize_params(sandbox_app))}", **HOST)

    assert response.status_code == 400
    assert "4717" in response.content.decode()


def test_response_type_other_than_code_is_sent_back(client: Client, sandbox_app: OAuthApp) -> None:
    params = authorize_params(sandbox_app, response_type="token", state="st")

    query = redirect_query(client.get(f"/oauth/authorize?{urlencode(params)}", **HOST))

    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["st"]


def test_pending_or_deactivated_user_cannot_authorize(
    client: Client, sandbox_app: OAuthApp, sandbox_pending: SandboxUser, make_sandbox_user: Any
) -> None:
    gone = make_sandbox_user(sandbox_pending.account, user_name="gone@acme.example.com", status=UserStatus.INACTIVE)

    for user in (sandbox_pending, gone):
        response = consent(client, authorize_params(sandbox_app), user=user.user_name)
        assert response.status_code == 400
        assert "cannot authorize apps" in response.content.decode()
    assert not AuthorizationCode.objects.exists()


def test_consent_form_is_csrf_protected(sandbox_app: OAuthApp, sandbox_owner: SandboxUser) -> None:
    browser = Client(enforce_csrf_checks=True)

    response = consent(browser, authorize_params(sandbox_app), user=sandbox_owner.user_name)

    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_expired_code_is_refused(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    code = code_for(client, sandbox_app, sandbox_owner)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = exchange(sandbox_http, sandbox_app, code)

    assert response.status_code == 400
    assert response.json() == {"reason": "Code is expired", "error": "invalid_grant"}


def test_code_lives_five_minutes(client: Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser) -> None:
    before = timezone.now()
    code_for(client, sandbox_app, sandbox_owner)

    expires_at = AuthorizationCode.objects.get().expires_at
    assert before + timedelta(minutes=5) <= expires_at <= timezone.now() + timedelta(minutes=5)


def test_reused_or_unknown_code_is_refused(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    code = code_for(client, sandbox_app, sandbox_owner)
    assert exchange(sandbox_http, sandbox_app, code).status_code == 200

    for attempt in (code, "made-up-code"):
        response = exchange(sandbox_http, sandbox_app, attempt)
        assert response.status_code == 400
        assert response.json() == {"reason": "Invalid authorization code", "error": "invalid_grant"}


def test_token_redirect_uri_must_match_the_authorize_one(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser
) -> None:
    code = code_for(client, sandbox_app, sandbox_owner)

    response = exchange(sandbox_http, sandbox_app, code, redirect_uri="http://localhost/accounts/callback")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_of_a_user_deactivated_meanwhile_is_refused(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_admin: SandboxUser
) -> None:
    code = code_for(client, sandbox_app, sandbox_admin)
    SandboxUser.objects.filter(pk=sandbox_admin.pk).update(status=UserStatus.INACTIVE)

    response = exchange(sandbox_http, sandbox_app, code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("revokes", [True, False])
def test_reauthorization_revokes_older_tokens_when_the_knob_is_on(
    client: Client, sandbox_http: httpx2.Client, sandbox_app: OAuthApp, sandbox_owner: SandboxUser, revokes: bool
) -> None:
    account = sandbox_owner.account
    account.user_reauth_revokes_previous = revokes
    account.save()
    first = exchange(sandbox_http, sandbox_app, code_for(client, sandbox_app, sandbox_owner)).json()

    second = exchange(sandbox_http, sandbox_app, code_for(client, sandbox_app, sandbox_owner)).json()

    old_call = sandbox_http.get("/v2/users/me", headers={"Authorization": f"Bearer {first['access_token']}"})
    old_refresh = sandbox_http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(sandbox_app.client_id, sandbox_app.client_secret),
    )
    new_call = sandbox_http.get("/v2/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert new_call.status_code == 200
    if revokes:
        assert old_call.status_code == 401
        assert old_call.json()["code"] == 124
        assert old_refresh.status_code == 400
    else:
        assert old_call.status_code == 200
        assert old_refresh.status_code == 200


def test_a_big_account_lists_its_admins_and_lets_anyone_else_be_typed(
    sandbox_app: OAuthApp,
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    sandbox_admin: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    members = [make_sandbox_user(sandbox_account, user_name=f"m{n:03d}@acme.example.com") for n in range(40)]
    client = Client(HTTP_HOST="sandbox.test")
    url = "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": sandbox_app.client_id,
            "redirect_uri": "http://testserver/accounts/callback",
        }
    )

    page = client.get(url).content.decode()
    assert "owner@acme.example.com" in page
    assert "admin@acme.example.com" in page
    assert "m000@acme.example.com" in page
    assert "m039@acme.example.com" not in page
    assert "and 15 more: type an email below" in page

    answer = client.post(url, {"decision": "authorize", "user": "", "user_email": members[-1].user_name.upper()})
    assert answer.status_code == 302
    code = AuthorizationCode.objects.get()
    assert code.user == members[-1]
