"""Issuing and checking the sandbox's OAuth tokens (the database keeps only digests)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from zoomadmin.sandbox.models import (
    AccessToken,
    OAuthApp,
    RefreshToken,
    SandboxAccount,
    SandboxUser,
    token_digest,
)


@dataclass(frozen=True)
class IssuedTokens:
    """What the token endpoint hands out; the raw values are never stored."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def as_response(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


def _raw_token(prefix: str) -> str:
    # JWT-looking opaque strings: clients must not parse them (Zoom says so too).
    return f"{prefix}.{secrets.token_urlsafe(48)}"


@transaction.atomic
def tokens_issue(
    *,
    app: OAuthApp,
    account: SandboxAccount,
    user: SandboxUser | None,
    scopes: str,
    with_refresh: bool,
    revoke_previous: bool,
) -> IssuedTokens:
    """Issue an access token (and a refresh token for user apps) for `user` on `account`.

    With `revoke_previous`, every earlier token of this app and user stops working, as Zoom's token
    tolerance of 1 does after a new authorization.
    """
    now = timezone.now()
    if revoke_previous:
        AccessToken.objects.filter(app=app, account=account, user=user, revoked_at__isnull=True).update(revoked_at=now)
        if user is not None:
            RefreshToken.objects.filter(app=app, user=user, revoked_at__isnull=True).update(revoked_at=now)
    raw_access = _raw_token("eyJzYW5kYm94IjoiYWNjZXNzIn0")
    lifetime = account.access_token_lifetime_seconds
    access = AccessToken.objects.create(
        token_digest=token_digest(raw_access),
        app=app,
        account=account,
        user=user,
        scopes=scopes,
        expires_at=now + timedelta(seconds=lifetime),
    )
    raw_refresh = None
    if with_refresh:
        assert user is not None, "refresh tokens belong to a user"
        raw_refresh = _raw_token("eyJzYW5kYm94IjoicmVmcmVzaCJ9")
        RefreshToken.objects.create(
            token_digest=token_digest(raw_refresh),
            app=app,
            account=account,
            user=user,
            scopes=scopes,
            expires_at=now + timedelta(days=account.refresh_token_lifetime_days),
            access_token=access,
        )
    return IssuedTokens(access_token=raw_access, expires_in=lifetime, scope=scopes, refresh_token=raw_refresh)


def access_token_lookup(raw: str) -> AccessToken | None:
    """The live token for a raw bearer value: known, not revoked, not expired; else None."""
    token = AccessToken.objects.select_related("account", "user", "app").filter(token_digest=token_digest(raw)).first()
    if token is None or token.revoked_at is not None or token.expires_at <= timezone.now():
        return None
    if not token.app.active:
        return None
    if token.user is not None and (token.user.account_id != token.account_id or not token.user.active):
        # The user left the account or was deactivated: their tokens stop working with them.
        return None
    return token
