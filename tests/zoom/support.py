"""Helpers shared by the Zoom client tests."""

from __future__ import annotations

from datetime import UTC, datetime

from zoomadmin.sandbox.models import AccessToken, OAuthApp, SandboxUser, token_digest
from zoomadmin.sandbox.tokens import tokens_issue
from zoomadmin.zoom import oauth

SANDBOX = "http://sandbox.test"


class FixedTokens:
    """The token source of a connection whose token is still good."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refreshed_access_token(self, rejected: str) -> str:
        raise AssertionError("a good token must not need a refresh")


class RefreshingTokens:
    """A token source like the accounts app's: refreshes through Zoom's OAuth server when told to."""

    def __init__(self, access: str, refresh: str) -> None:
        self.access = access
        self.refresh = refresh
        self.config = oauth.OAuthConfig(
            client_id="test-client-id",
            client_secret="test-client-secret",
            oauth_base_url="http://sandbox.test",
            redirect_uri="",
            scopes="",
        )

    def access_token(self) -> str:
        return self.access

    def refreshed_access_token(self, rejected: str) -> str:
        tokens = oauth.refresh(self.config, refresh_token=self.refresh)
        assert tokens.refresh_token
        self.access, self.refresh = tokens.access_token, tokens.refresh_token
        return self.access


def issue_pair(app: OAuthApp, user: SandboxUser) -> tuple[str, str]:
    issued = tokens_issue(
        app=app, account=user.account, user=user, scopes=app.scopes, with_refresh=True, revoke_previous=False
    )
    assert issued.refresh_token
    return issued.access_token, issued.refresh_token


def revoke_access(raw: str) -> None:
    AccessToken.objects.filter(token_digest=token_digest(raw)).update(revoked_at=datetime.now(tz=UTC))
