"""Sign-in with Zoom against the sandbox's real OAuth server, and the connection pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import callback_path, consent
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.audit.models import AuditEvent
from zoomadmin.sandbox.models import AccessToken, AuthorizationCode, SandboxAccount, SandboxUser

pytestmark = pytest.mark.usefixtures("allowed_accounts", "sandbox_app")


def test_login_page_offers_sign_in_with_zoom(visitor: Client) -> None:
    page = visitor.get("/login")
    assert page.status_code == 200
    assert "Sign in with Zoom" in page.content.decode()


def test_signed_out_home_is_a_landing_page(visitor: Client) -> None:
    page = visitor.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Sign in with Zoom" in body
    assert "Your Zoom accounts" not in body


def test_starting_a_sign_in_is_a_csrf_checked_post(visitor: Client) -> None:
    # A GET never starts a flow (nothing is written to the session from a link on another site).
    assert visitor.get("/login?start=1").status_code == 200
    assert "zoom_signin_flows" not in visitor.session
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/login").status_code == 403


def test_sign_in_redirects_to_zoom_with_state_and_pkce(visitor: Client) -> None:
    started = visitor.post("/login")
    assert started.status_code == 302
    url = urlsplit(started["Location"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert (url.scheme, url.hostname, url.path) == ("http", "sandbox.test", "/oauth/authorize")
    assert query["response_type"] == "code"
    assert query["client_id"] == "test-client-id"
    assert query["redirect_uri"] == "http://testserver/accounts/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32


def test_admin_signs_in_and_sees_their_account(
    visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser, account_a: SandboxAccount
) -> None:
    landed = sign_in(visitor, admin_a)
    assert landed.status_code == 302
    assert landed["Location"] == f"/a/{account_a.zoom_id}/"
    body = visitor.get("/", follow=True).content.decode()
    assert "admin@acme.example.com" in body
    assert account_a.zoom_id in body
    assert "Admin" in body
    connection = ZoomConnection.objects.get()
    assert connection.zoom_user_id == admin_a.zoom_id
    # Named after the company on the admin's Zoom profile, not the email domain.
    assert connection.account.name == "Acme Corp"
    assert connection.account.zoom_id == account_a.zoom_id
    assert connection.status == "active"
    assert connection.user.username == f"zoom:{account_a.zoom_id}:{admin_a.zoom_id}"


def test_owner_signs_in(visitor: Client, sign_in: Callable[..., Any], sandbox_owner: SandboxUser) -> None:
    assert sign_in(visitor, sandbox_owner).status_code == 302
    assert ZoomConnection.objects.get().role == "Owner"


def test_signing_in_again_finds_the_same_person(sign_in: Callable[..., Any], admin_a: SandboxUser) -> None:
    sign_in(Client(), admin_a)
    sign_in(Client(), admin_a)
    assert User.objects.count() == 1
    assert ZoomConnection.objects.count() == 1


def test_sign_in_rotates_the_session_key(visitor: Client, zoom_browser: Client, admin_a: SandboxUser) -> None:
    started = visitor.post("/login")
    key_before = visitor.session.session_key
    assert key_before
    visitor.get(callback_path(consent(zoom_browser, started["Location"], admin_a)))
    assert visitor.session.session_key != key_before
    assert visitor.session["_auth_user_id"]


def test_state_mismatch_is_refused(visitor: Client, zoom_browser: Client, admin_a: SandboxUser) -> None:
    started = visitor.post("/login")
    location = consent(zoom_browser, started["Location"], admin_a)
    forged = location.replace("state=", "state=forged")
    page = visitor.get(callback_path(forged))
    assert page.status_code == 400
    body = page.content.decode()
    assert "This sign-in link is not valid" in body
    assert "does not belong to a sign-in started in this browser" in body
    assert not ZoomConnection.objects.exists()
    assert "_auth_user_id" not in visitor.session


def test_callback_from_another_browser_is_refused(zoom_browser: Client, admin_a: SandboxUser) -> None:
    victim, attacker = Client(), Client()
    started = attacker.post("/login")
    location = consent(zoom_browser, started["Location"], admin_a)
    # Login CSRF: the attacker's callback URL opened in the victim's browser does nothing.
    page = victim.get(callback_path(location))
    assert page.status_code == 400
    assert not ZoomConnection.objects.exists()


def test_consent_denied(visitor: Client, zoom_browser: Client, admin_a: SandboxUser) -> None:
    started = visitor.post("/login")
    location = consent(zoom_browser, started["Location"], admin_a, allow=False)
    assert "error=access_denied" in location
    page = visitor.get(callback_path(location))
    assert page.status_code == 200
    assert "You cancelled the sign-in" in page.content.decode()
    assert not ZoomConnection.objects.exists()


def test_expired_code_asks_to_try_again(visitor: Client, zoom_browser: Client, admin_a: SandboxUser) -> None:
    started = visitor.post("/login")
    location = consent(zoom_browser, started["Location"], admin_a)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = visitor.get(callback_path(location))
    assert page.status_code == 400
    body = page.content.decode()
    assert "Zoom did not accept this sign-in" in body
    assert "Start the sign-in again" in body
    assert not ZoomConnection.objects.exists()


def test_refused_client_secret_is_reported_as_such(
    settings: Any, visitor: Client, zoom_browser: Client, admin_a: SandboxUser
) -> None:
    started = visitor.post("/login")
    location = consent(zoom_browser, started["Location"], admin_a)
    settings.ZOOM_CLIENT_SECRET = "not-the-secret"
    page = visitor.get(callback_path(location))
    body = page.content.decode()
    # Not "the code expired, start again": no sign-in can work until the operator fixes the secret.
    assert "check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET" in body
    assert "codes live five minutes" not in body
    assert not ZoomConnection.objects.exists()


def test_reused_code_asks_to_try_again(visitor: Client, zoom_browser: Client, admin_a: SandboxUser) -> None:
    first = visitor.post("/login")
    location = consent(zoom_browser, first["Location"], admin_a)
    assert visitor.get(callback_path(location)).status_code == 302
    # A second sign-in in the same browser presents the old, already used code with its fresh state.
    second = visitor.post("/login")
    state = parse_qs(urlsplit(second["Location"]).query)["state"][0]
    code = parse_qs(urlsplit(location).query)["code"][0]
    page = visitor.get(f"/accounts/callback?code={code}&state={state}")
    assert page.status_code == 400
    assert "expired (codes live five minutes) or was used already" in page.content.decode()


def test_member_is_told_why_and_nothing_is_stored(
    visitor: Client, sign_in: Callable[..., Any], sandbox_member: SandboxUser, account_a: SandboxAccount
) -> None:
    page = sign_in(visitor, sandbox_member)
    assert page.status_code == 403
    assert (
        f"You signed in as member@acme.example.com, a Member of account {account_a.zoom_id}; "
        "only Owners and Admins can use zoomadmin."
    ) in page.content.decode()
    assert not ZoomConnection.objects.exists()
    assert not User.objects.exists()
    assert "_auth_user_id" not in visitor.session
    # The grant Zoom gave is revoked there too: nothing of it lingers.
    grants = AccessToken.objects.filter(user=sandbox_member)
    assert grants.exists()
    assert not grants.filter(revoked_at__isnull=True).exists()


def test_account_not_allowed_is_told_why(
    settings: Any, visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser, account_b: SandboxAccount
) -> None:
    settings.ZOOMADMIN_ALLOWED_ACCOUNTS = [account_b.zoom_id]
    page = sign_in(visitor, admin_a)
    assert page.status_code == 403
    body = page.content.decode()
    assert f"Account {admin_a.account.zoom_id} is not allowed on this installation" in body
    assert "ask the operator to add it to ZOOMADMIN_ALLOWED_ACCOUNTS" in body
    assert not ZoomConnection.objects.exists()
    assert not User.objects.exists()
    assert not AccessToken.objects.filter(user=admin_a, revoked_at__isnull=True).exists()


def test_link_second_account_and_switch(
    visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    sign_in(visitor, admin_a)
    assert visitor.get("/link").status_code == 200
    linked = sign_in(visitor, admin_b, start="/link")
    assert linked.status_code == 302
    person = User.objects.get()
    assert {c.zoom_email for c in person.zoom_connections.all()} == {
        "admin@acme.example.com",
        "admin@beta.example.com",
    }
    connection_a = ZoomConnection.objects.get(account__zoom_id=admin_a.account.zoom_id)
    # The freshly linked account is current.
    assert "Now working on" not in visitor.get("/accounts/").content.decode()
    assert visitor.get("/accounts/").context["connection"].zoom_email == "admin@beta.example.com"
    switched = visitor.post("/switch", {"connection": connection_a.pk})
    assert switched.status_code == 302
    assert switched["Location"] == f"/a/{admin_a.account.zoom_id}/"
    home = visitor.get(switched["Location"])
    assert home.context["current_connection"].pk == connection_a.pk
    assert [c.zoom_email for c in home.context["other_connections"]] == ["admin@beta.example.com"]
    assert "Now working on Acme Corp" in home.content.decode()


def test_switch_to_another_persons_connection_is_404(
    sign_in: Callable[..., Any], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    person_a, person_b = Client(), Client()
    sign_in(person_a, admin_a)
    sign_in(person_b, admin_b)
    connection_a = ZoomConnection.objects.get(zoom_email="admin@acme.example.com")
    assert person_b.post("/switch", {"connection": connection_a.pk}).status_code == 404
    assert person_b.post(f"/connections/{connection_a.pk}/disconnect").status_code == 404
    settings_a = f"/a/{admin_a.account.zoom_id}/settings"
    assert person_b.post(settings_a, {"name": "Mine", "plan": "free"}).status_code == 404
    assert person_b.get("/accounts/").context["connection"].zoom_email == "admin@beta.example.com"
    assert "admin@acme.example.com" not in person_b.get("/", follow=True).content.decode()
    assert ZoomConnection.objects.get(pk=connection_a.pk).account.name == "Acme Corp"
    assert ZoomConnection.objects.get(pk=connection_a.pk).account.plan == "business"


def test_second_admin_of_same_account_is_a_separate_person(
    sign_in: Callable[..., Any], admin_a: SandboxUser, admin_a2: SandboxUser
) -> None:
    first, second = Client(), Client()
    sign_in(first, admin_a)
    sign_in(second, admin_a2)
    assert User.objects.count() == 2
    assert second.get("/accounts/").context["connection"].zoom_email == "admin2@acme.example.com"
    assert "admin@acme.example.com" not in second.get("/accounts/").content.decode()
    # Both admins share one account row.
    assert ZoomAccount.objects.count() == 1


def test_linking_an_identity_of_another_person_is_refused(
    sign_in: Callable[..., Any], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    person_a, person_b = Client(), Client()
    sign_in(person_a, admin_a)
    sign_in(person_b, admin_b)
    page = sign_in(person_b, admin_a, start="/link")
    assert page.status_code == 403
    assert "already linked to another zoomadmin person" in page.content.decode()
    assert ZoomConnection.objects.get(zoom_email="admin@acme.example.com").user.username.endswith(admin_a.zoom_id)


def test_rename_account_and_correct_plan(visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser) -> None:
    sign_in(visitor, admin_a)
    account = ZoomAccount.objects.get()
    saved = visitor.post(f"/a/{account.zoom_id}/settings", {"name": "Acme Worldwide", "plan": "pro"}, follow=True)
    assert "Saved the settings of Acme Worldwide." in saved.content.decode()
    account.refresh_from_db()
    assert (account.name, account.plan) == ("Acme Worldwide", "pro")
    event = AuditEvent.objects.get()
    assert (event.action, event.zoom_email) == ("account.settings", "admin@acme.example.com")
    assert event.changes == {"name": ["Acme Corp", "Acme Worldwide"], "plan": ["business", "pro"]}
    # Signing in again keeps the name and plan the admin chose.
    sign_in(visitor, admin_a)
    assert ZoomAccount.objects.values_list("name", "plan").get() == ("Acme Worldwide", "pro")


def test_logout(visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser) -> None:
    sign_in(visitor, admin_a)
    assert "admin@acme.example.com" in visitor.get("/", follow=True).content.decode()
    assert visitor.get("/logout").status_code == 405
    assert visitor.post("/logout").status_code == 302
    body = visitor.get("/").content.decode()
    assert "Sign in with Zoom" in body
    assert "admin@acme.example.com" not in body
    # The connection stays linked for the next sign-in.
    assert ZoomConnection.objects.count() == 1


def test_posts_need_csrf_token(sign_in: Callable[..., Any], admin_a: SandboxUser) -> None:
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/login").status_code == 403
    user = User.objects.create(username="someone")
    browser.force_login(user)
    assert browser.post("/logout").status_code == 403
    assert browser.post("/switch", {"connection": 1}).status_code == 403


def _me_status(token: str) -> tuple[int, Any]:
    from zoomadmin.sandbox.transport import sandbox_transport

    with httpx2.Client(transport=sandbox_transport(), base_url="http://sandbox.test") as http:
        response = http.get("/v2/users/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def test_disconnect_revokes_at_zoom_and_switches(
    visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    sign_in(visitor, admin_a)
    sign_in(visitor, admin_b, start="/link")
    current = ZoomConnection.objects.get(zoom_email="admin@beta.example.com")
    token = current.access_token()
    assert _me_status(token)[0] == 200
    answer = visitor.post(f"/connections/{current.pk}/disconnect")
    assert answer.status_code == 302
    assert _me_status(token) == (401, {"code": 124, "message": "Invalid access token."})
    assert not ZoomConnection.objects.filter(pk=current.pk).exists()
    home = visitor.get(answer["Location"])
    assert home.context["connection"].zoom_email == "admin@acme.example.com"
    assert "Disconnected Beta Ltd" in home.content.decode()


def test_disconnecting_the_last_account_signs_out(
    visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser
) -> None:
    sign_in(visitor, admin_a)
    connection = ZoomConnection.objects.get()
    token = connection.access_token()
    visitor.post(f"/connections/{connection.pk}/disconnect")
    assert _me_status(token)[0] == 401
    body = visitor.get("/").content.decode()
    assert "so you are signed out" in body
    assert "Sign in with Zoom" in body
    assert not ZoomConnection.objects.exists()


def test_session_cookie_is_secure_httponly_and_lax(
    settings: Any, visitor: Client, sign_in: Callable[..., Any], admin_a: SandboxUser
) -> None:
    assert not settings.DEBUG
    landed = sign_in(visitor, admin_a)
    cookie = landed.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"]
    assert cookie["httponly"]
    # Lax, not Strict: Zoom's redirect back to the callback is a cross-site top-level navigation.
    assert cookie["samesite"] == "Lax"
