"""Zoom OAuth through `zoomadmin.zoom.oauth`, against the sandbox's OAuth server."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from django.test import Client

from zoomadmin.sandbox.models import AccessToken, OAuthApp, SandboxAccount, SandboxUser, token_digest
from zoomadmin.sandbox.tokens import access_token_lookup
from zoomadmin.zoom import oauth
from zoomadmin.zoom.errors import Invalid, Unauthorized, Unavailable

REDIRECT_URI = "http://testserver/accounts/callback"


@pytest.fixture(autouse=True)
def _sandbox_transport(settings: Any) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "zoomadmin.sandbox.transport.sandbox_transport"


@pytest.fixture
def config(sandbox_app: OAuthApp) -> oauth.OAuthConfig:
    return oauth.OAuthConfig(
        client_id="test-client-id",
        client_secret="test-client-secret",
        oauth_base_url="http://sandbox.test",
        redirect_uri=REDIRECT_URI,
        scopes="scim2:admin user:read:user",
    )


def consent(url: str, user: SandboxUser) -> dict[str, list[str]]:
    """Play the admin on Zoom's consent page: authorize as `user`; return the redirect's query."""
    parts = urlsplit(url)
    browser = Client(HTTP_HOST="sandbox.test")
    page = browser.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    answer = browser.post(f"{parts.path}?{parts.query}", {"user": user.user_name, "decision": "authorize"})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer["Location"]).query)


def test_authorization_url_carries_state_and_s256_challenge(config: oauth.OAuthConfig) -> None:
    verifier = oauth.new_code_verifier()
    url = oauth.authorization_url(config, state="st4te", code_verifier=verifier)
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "sandbox.test", "/oauth/authorize")
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query == {
        "response_type": "code",
        "client_id": "test-client-id",
        "redirect_uri": REDIRECT_URI,
        "scope": "scim2:admin user:read:user",
        "state": "st4te",
        "code_challenge": expected,
        "code_challenge_method": "S256",
    }
    assert 43 <= len(verifier) <= 128


def test_code_exchange_gives_working_tokens(config: oauth.OAuthConfig, sandbox_owner: SandboxUser) -> None:
    verifier = oauth.new_code_verifier()
    query = consent(oauth.authorization_url(config, state="s1", code_verifier=verifier), sandbox_owner)
    assert query["state"] == ["s1"]
    before = datetime.now(tz=UTC)
    tokens = oauth.exchange_code(config, code=query["code"][0], code_verifier=verifier)
    assert tokens.refresh_token
    assert "scim2:admin" in tokens.scope.split()
    assert before + timedelta(minutes=50) < tokens.expires_at <= before + timedelta(hours=1, seconds=5)
    live = access_token_lookup(tokens.access_token)
    assert live is not None
    assert live.user == sandbox_owner
    assert tokens.access_token not in repr(tokens)


def test_code_with_wrong_verifier_is_invalid(config: oauth.OAuthConfig, sandbox_owner: SandboxUser) -> None:
    query = consent(oauth.authorization_url(config, state="s", code_verifier=oauth.new_code_verifier()), sandbox_owner)
    with pytest.raises(Invalid) as caught:
        oauth.exchange_code(config, code=query["code"][0], code_verifier=oauth.new_code_verifier())
    assert "invalid_grant" in caught.value.detail


def test_code_is_single_use(config: oauth.OAuthConfig, sandbox_owner: SandboxUser) -> None:
    verifier = oauth.new_code_verifier()
    query = consent(oauth.authorization_url(config, state="s", code_verifier=verifier), sandbox_owner)
    oauth.exchange_code(config, code=query["code"][0], code_verifier=verifier)
    with pytest.raises(Invalid):
        oauth.exchange_code(config, code=query["code"][0], code_verifier=verifier)


def test_refresh_rotates_and_old_refresh_token_is_unauthorized(
    config: oauth.OAuthConfig, sandbox_owner: SandboxUser
) -> None:
    verifier = oauth.new_code_verifier()
    query = consent(oauth.authorization_url(config, state="s", code_verifier=verifier), sandbox_owner)
    first = oauth.exchange_code(config, code=query["code"][0], code_verifier=verifier)
    assert first.refresh_token
    second = oauth.refresh(config, refresh_token=first.refresh_token)
    assert second.refresh_token
    assert second.refresh_token != first.refresh_token
    assert access_token_lookup(second.access_token) is not None
    with pytest.raises(Unauthorized) as caught:
        oauth.refresh(config, refresh_token=first.refresh_token)
    assert "Sign in with Zoom again" in caught.value.message
    assert first.refresh_token not in caught.value.message + caught.value.detail


def test_wrong_client_secret_is_invalid(config: oauth.OAuthConfig) -> None:
    bad = oauth.OAuthConfig(
        client_id=config.client_id,
        client_secret="wrong",
        oauth_base_url=config.oauth_base_url,
        redirect_uri=config.redirect_uri,
        scopes=config.scopes,
    )
    with pytest.raises(Invalid) as caught:
        oauth.refresh(bad, refresh_token="whatever")
    assert "ZOOM_CLIENT_SECRET" in caught.value.message
    assert "wrong" not in repr(bad)


def test_revoke_kills_the_access_token(config: oauth.OAuthConfig, sandbox_owner: SandboxUser) -> None:
    verifier = oauth.new_code_verifier()
    query = consent(oauth.authorization_url(config, state="s", code_verifier=verifier), sandbox_owner)
    tokens = oauth.exchange_code(config, code=query["code"][0], code_verifier=verifier)
    oauth.revoke(config, token=tokens.access_token)
    assert access_token_lookup(tokens.access_token) is None
    assert AccessToken.objects.get(token_digest=token_digest(tokens.access_token)).revoked_at is not None


def test_account_credentials_for_a_server_to_server_app(
    sandbox_account: SandboxAccount, sandbox_owner: SandboxUser
) -> None:
    OAuthApp.objects.create(
        name="s2s",
        kind=OAuthApp.Kind.S2S,
        client_id="s2s-id",
        client_secret="s2s-secret",
        account=sandbox_account,
        scopes="scim2:admin",
    )
    config = oauth.OAuthConfig(
        client_id="s2s-id", client_secret="s2s-secret", oauth_base_url="http://sandbox.test", redirect_uri="", scopes=""
    )
    tokens = oauth.account_credentials(config, account_id=sandbox_account.zoom_id)
    assert tokens.refresh_token is None
    live = access_token_lookup(tokens.access_token)
    assert live is not None
    assert live.account == sandbox_account


def test_oauth_server_errors_and_timeouts_are_unavailable(settings: Any, config: oauth.OAuthConfig) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "tests.zoom.test_oauth.failing_transport"
    with pytest.raises(Unavailable) as caught:
        oauth.refresh(config, refresh_token="r")
    assert caught.value.status == 503
    settings.ZOOM_HTTP_TRANSPORT = "tests.zoom.test_oauth.hanging_transport"
    with pytest.raises(Unavailable) as caught:
        oauth.refresh(config, refresh_token="r")
    assert "in time" in caught.value.message


def test_a_huge_token_error_is_cut_short(settings: Any, config: oauth.OAuthConfig) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "tests.zoom.test_oauth.verbose_transport"
    with pytest.raises(Invalid) as caught:
        oauth.exchange_code(config, code="c", code_verifier="v" * 43)
    assert caught.value.message.startswith("Zoom refused to get a token: yyy")
    assert len(caught.value.message) < 600
    assert len(caught.value.detail) < 600


def verbose_transport() -> httpx2.BaseTransport:
    """A token endpoint whose refusal explains itself at great length."""
    return httpx2.MockTransport(
        lambda request: httpx2.Response(400, json={"error": "invalid_request", "reason": "y" * 200_000})
    )


def failing_transport() -> httpx2.BaseTransport:
    """Zoom's OAuth server having a bad day (a third party, not our code)."""
    return httpx2.MockTransport(lambda request: httpx2.Response(503, text="<html>Service Unavailable</html>"))


def hanging_transport() -> httpx2.BaseTransport:
    """A network on which the answer never comes."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    return httpx2.MockTransport(handler)


def stale_refresh_transport() -> httpx2.BaseTransport:
    """A token endpoint refusing a stale refresh token with `invalid_request`, as seen on Zoom."""
    return httpx2.MockTransport(
        lambda request: httpx2.Response(400, json={"reason": "Invalid Token!", "error": "invalid_request"})
    )


def test_a_refused_refresh_means_sign_in_again_whatever_the_error_value(
    settings: Any, config: oauth.OAuthConfig
) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "tests.zoom.test_oauth.stale_refresh_transport"
    with pytest.raises(Unauthorized) as caught:
        oauth.refresh(config, refresh_token="r")
    assert "Sign in with Zoom again" in caught.value.message
    assert caught.value.detail == "invalid_request: Invalid Token!"
