"""The sandbox's OAuth server: Zoom's authorize, token and revoke rules as plain functions.

Faithful to `reference/zoom-oauth-ratelimits.md` §1-§2: codes live five minutes and are single use,
PKCE accepts S256 and plain (plain when a challenge comes without a method), refresh tokens rotate,
server-to-server apps get the account owner's token without a refresh token. Token-endpoint errors
carry Zoom's `{"reason", "error"}` pair; the views only parse requests and render these answers.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from zoomadmin.sandbox.models import (
    AccessToken,
    AuthorizationCode,
    OAuthApp,
    RefreshToken,
    Role,
    SandboxAccount,
    SandboxUser,
    UserStatus,
    token_digest,
)
from zoomadmin.sandbox.tokens import IssuedTokens, tokens_issue

CODE_LIFETIME = timedelta(minutes=5)
PKCE_METHODS = ("S256", "plain")
# RFC 7636 §4.1: 43-128 characters of the unreserved set, for verifiers and plain challenges alike.
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
INVALID_CODE = "Invalid authorization code"
INVALID_TOKEN = "Invalid Token!"  # noqa: S105 (an error message, not a secret)

# What the consent page says each scope allows; unknown scopes are shown by name only.
SCOPE_DESCRIPTIONS = {
    "scim2": "View and manage all users and groups of the account (SCIM2)",
    "scim2:admin": "View and manage all users and groups of the account (SCIM2)",
    "user:read": "View user information",
    "user:read:admin": "View all users' information",
    "user_info:read": "View your user information",
    "user:read:user": "View your user information",
}


class OAuthError(Exception):
    """A token or revoke endpoint refusal, answered as Zoom does: `{"reason": ..., "error": ...}`."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason

    def as_body(self) -> dict[str, str]:
        return {"reason": self.reason, "error": self.error}


class AuthorizePageError(Exception):
    """An authorize request the sandbox must not redirect back from (unknown client, bad redirect URI).

    Shown on the sandbox's own error page, with Zoom's numbered code.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AuthorizeRedirectError(Exception):
    """An authorize request error reported to the (verified) client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class ConsentRefused(Exception):
    """The person picked a user who cannot authorize (unknown, pending, deactivated)."""


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated `/oauth/authorize` request: the app and what to send back where."""

    app: OAuthApp
    redirect_uri: str
    state: str | None
    code_challenge: str
    code_challenge_method: str

    def scope_list(self) -> list[tuple[str, str]]:
        return [(scope, SCOPE_DESCRIPTIONS.get(scope, "")) for scope in app_scopes(self.app).split()]


@dataclass
class AccountUsers:
    """One sandbox account's users, as the consent page's picker groups them."""

    account: SandboxAccount
    users: list[SandboxUser] = field(default_factory=list)
    # Users not listed (big accounts): they authorize by typing their email.
    unlisted: int = 0


def app_scopes(app: OAuthApp) -> str:
    """The app's scopes, space-separated and without stray whitespace: every token gets exactly these."""
    return " ".join(app.scopes.split())


def redirect_uri_with(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` added to its query (existing query kept; None values left out).

    Percent-encoding (spaces as %20) so both form decoders and plain URL decoders read `state` back
    exactly.
    """
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def authorize_request_parse(*, params: Mapping[str, str]) -> AuthorizeRequest:
    """Validate an authorize request's query, in the order that decides where errors may go.

    Until the client and its redirect URI are known good, errors stay on the sandbox's page
    (`AuthorizePageError`): redirecting to an unverified URI would make the sandbox an open
    redirector. After that, errors go back to the client (`AuthorizeRedirectError`).
    """
    client_id = params.get("client_id", "")
    app = OAuthApp.objects.filter(client_id=client_id).select_related("account").first() if client_id else None
    if app is None:
        raise AuthorizePageError(4702, "Invalid client_id.")
    if not app.active:
        raise AuthorizePageError(4717, "This app has been disabled.")
    if app.kind != OAuthApp.Kind.USER:
        raise AuthorizePageError(4702, "Server-to-Server apps cannot be authorized by a user.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uri_list():
        raise AuthorizePageError(4709, "Redirect URI mismatch.")

    state = params.get("state")

    def back(error: str, description: str) -> AuthorizeRedirectError:
        location = redirect_uri_with(redirect_uri, {"error": error, "error_description": description, "state": state})
        return AuthorizeRedirectError(location)

    if params.get("response_type") != "code":
        raise back("unsupported_response_type", "response_type must be code.")
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if challenge:
        method = method or "plain"
        if method not in PKCE_METHODS:
            raise back("invalid_request", "code_challenge_method must be S256 or plain.")
        if not _PKCE_VALUE.match(challenge):
            raise back("invalid_request", "code_challenge is malformed.")
    elif method:
        raise back("invalid_request", "code_challenge_method given without code_challenge.")
    return AuthorizeRequest(
        app=app, redirect_uri=redirect_uri, state=state, code_challenge=challenge, code_challenge_method=method
    )


# Members listed per account on the consent page; with 50,000 users the page must stay small.
MEMBERS_LISTED = 25


def authorize_user_choices() -> list[AccountUsers]:
    """Per account (by name): the Owner, the Admins, then the first members by email.

    Everyone else of a big account is left out of the list (counted in `unlisted`) and authorizes
    by typing their email on the consent page.
    """
    role_order = Case(
        When(role=Role.OWNER, then=Value(0)),
        When(role=Role.ADMIN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    groups: list[AccountUsers] = []
    for account in SandboxAccount.objects.order_by("name", "pk"):
        privileged = list(
            account.users.filter(role__in=[Role.OWNER, Role.ADMIN])
            .annotate(role_order=role_order)
            .order_by("role_order", "user_name")
        )
        members = list(account.users.filter(role=Role.MEMBER).order_by("user_name")[:MEMBERS_LISTED])
        listed = privileged + members
        if listed:
            total = account.users.count()
            groups.append(AccountUsers(account=account, users=listed, unlisted=total - len(listed)))
    return groups


def authorization_code_create(*, request: AuthorizeRequest, user_name: str) -> str:
    """Issue a five-minute, single-use code for the chosen user; returns the raw code.

    Raises `ConsentRefused` for an unknown user or one who is not active (pending users have not
    accepted their invitation; deactivated users cannot sign in to Zoom).
    """
    user = SandboxUser.objects.filter(user_name__iexact=user_name.strip()).first() if user_name.strip() else None
    if user is None:
        raise ConsentRefused("Choose a sandbox user to authorize as.")
    if user.status != UserStatus.ACTIVE:
        raise ConsentRefused(f"{user.user_name} is {user.get_status_display().lower()} and cannot authorize apps.")
    raw = secrets.token_urlsafe(24)
    AuthorizationCode.objects.create(
        code_digest=token_digest(raw),
        app=request.app,
        user=user,
        redirect_uri=request.redirect_uri,
        scopes=app_scopes(request.app),
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    return raw


def client_authenticate(*, client_id: str, client_secret: str) -> OAuthApp:
    """The active app these credentials belong to, or a 401 `invalid_client`."""
    if not client_id or not client_secret:
        raise OAuthError(401, "invalid_client", "Client ID and client secret are required.")
    app = OAuthApp.objects.filter(client_id=client_id).select_related("account").first()
    # Compare even when the app is unknown, so timing does not tell which client ids exist.
    expected = app.client_secret if app is not None else secrets.token_urlsafe(32)
    if not secrets.compare_digest(expected.encode(), client_secret.encode()) or app is None:
        raise OAuthError(401, "invalid_client", "Invalid client_id or client_secret")
    if not app.active:
        raise OAuthError(401, "invalid_client", "The app has been disabled.")
    return app


def _pkce_matches(*, challenge: str, method: str, verifier: str) -> bool:
    if not _PKCE_VALUE.match(verifier):
        return False
    if method == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
        return secrets.compare_digest(computed, challenge)
    return secrets.compare_digest(verifier, challenge)


def token_exchange_code(*, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str) -> IssuedTokens:
    """The `authorization_code` grant: trade a code for an access and a refresh token.

    The code is consumed by its first presentation, even one that then fails (wrong verifier or
    redirect URI), so a guessed verifier cannot be retried. With the account's
    `user_reauth_revokes_previous`, the user's earlier tokens for this app stop working.
    """
    if app.kind != OAuthApp.Kind.USER:
        raise OAuthError(400, "unauthorized_client", "This app cannot use the authorization_code grant.")
    if not code:
        raise OAuthError(400, "invalid_request", INVALID_CODE)
    row = (
        AuthorizationCode.objects.select_related("user__account")
        .filter(code_digest=token_digest(code), app=app)
        .first()
    )
    if row is None:
        raise OAuthError(400, "invalid_grant", INVALID_CODE)
    now = timezone.now()
    if row.expires_at <= now:
        raise OAuthError(400, "invalid_grant", "Code is expired")
    # A conditional update claims the code: of two concurrent exchanges only one sees a row change.
    if not AuthorizationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise OAuthError(400, "invalid_grant", INVALID_CODE)
    if redirect_uri != row.redirect_uri:
        raise OAuthError(400, "invalid_grant", "Redirect URI mismatch.")
    if row.code_challenge:
        if not _pkce_matches(challenge=row.code_challenge, method=row.code_challenge_method, verifier=code_verifier):
            raise OAuthError(400, "invalid_grant", "Invalid code_verifier")
    elif code_verifier:
        # A verifier for a code issued without a challenge means someone stripped the challenge (RFC 9700 §2.1.1).
        raise OAuthError(400, "invalid_grant", "Invalid code_verifier")
    user = row.user
    if user.status != UserStatus.ACTIVE:
        raise OAuthError(400, "invalid_grant", INVALID_CODE)
    account = user.account
    return tokens_issue(
        app=app,
        account=account,
        user=user,
        scopes=row.scopes,
        with_refresh=True,
        revoke_previous=account.user_reauth_revokes_previous,
    )


def token_refresh(*, app: OAuthApp, refresh_token: str) -> IssuedTokens:
    """The `refresh_token` grant: rotate a refresh token into a new access and refresh token.

    The presented token is spent; later uses answer "Invalid Token!" unless the account's
    `refresh_reuse_tolerance` still allows some. The previous access token keeps working until it
    expires (whether Zoom kills it at once is UNCONFIRMED; see docs/sandbox-oauth.md).
    """
    if not refresh_token:
        raise OAuthError(400, "invalid_request", "Token cannot be empty.")
    row = (
        RefreshToken.objects.select_related("user", "account")
        .filter(token_digest=token_digest(refresh_token), app=app)
        .first()
    )
    if row is None or row.revoked_at is not None:
        raise OAuthError(400, "invalid_grant", INVALID_TOKEN)
    now = timezone.now()
    if row.expires_at <= now:
        raise OAuthError(400, "invalid_grant", "Refresh token is expired")
    user = row.user
    if user.status != UserStatus.ACTIVE or user.account_id != row.account_id:
        raise OAuthError(400, "invalid_grant", INVALID_TOKEN)
    if set(row.scopes.split()) != set(app_scopes(app).split()):
        # Zoom 4711: the app's scopes changed since the user consented; they must authorize again.
        raise OAuthError(400, "invalid_grant", "Invalid Token! The token's scopes do not match the app's scopes.")
    rotated = RefreshToken.objects.filter(pk=row.pk, rotated_at__isnull=True).update(rotated_at=now)
    if not rotated:
        tolerated = RefreshToken.objects.filter(
            pk=row.pk, uses_after_rotation__lt=row.account.refresh_reuse_tolerance
        ).update(uses_after_rotation=F("uses_after_rotation") + 1)
        if not tolerated:
            raise OAuthError(400, "invalid_grant", INVALID_TOKEN)
    return tokens_issue(
        app=app, account=row.account, user=user, scopes=row.scopes, with_refresh=True, revoke_previous=False
    )


def token_account_credentials(*, app: OAuthApp, account_id: str) -> IssuedTokens:
    """The `account_credentials` grant of Server-to-Server apps: the account owner's token, no refresh token.

    With the account's `s2s_new_token_revokes_previous`, the app's earlier tokens stop working.
    """
    if app.kind != OAuthApp.Kind.S2S:
        raise OAuthError(400, "unauthorized_client", "This app cannot use the account_credentials grant.")
    if not account_id:
        raise OAuthError(400, "invalid_request", "Missing account_id.")
    account = app.account
    if account is None or account_id != account.zoom_id:
        raise OAuthError(400, "invalid_request", "Invalid account_id.")
    owner = account.users.filter(role=Role.OWNER).order_by("id").first()
    return tokens_issue(
        app=app,
        account=account,
        user=owner,
        scopes=app_scopes(app),
        with_refresh=False,
        revoke_previous=account.s2s_new_token_revokes_previous,
    )


def token_revoke(*, app: OAuthApp, token: str) -> None:
    """Revoke one of the app's access or refresh tokens together with its pair.

    Unknown tokens, and tokens of other apps, are left alone without an error (RFC 7009 §2.2): the
    answer must not reveal which tokens exist.
    """
    if not token:
        raise OAuthError(400, "invalid_request", "Token cannot be empty.")
    now = timezone.now()
    digest = token_digest(token)
    access = AccessToken.objects.filter(token_digest=digest, app=app).first()
    if access is not None:
        AccessToken.objects.filter(pk=access.pk, revoked_at__isnull=True).update(revoked_at=now)
        RefreshToken.objects.filter(access_token=access, revoked_at__isnull=True).update(revoked_at=now)
        return
    refresh = RefreshToken.objects.filter(token_digest=digest, app=app).first()
    if refresh is not None:
        RefreshToken.objects.filter(pk=refresh.pk, revoked_at__isnull=True).update(revoked_at=now)
        if refresh.access_token_id is not None:
            AccessToken.objects.filter(pk=refresh.access_token_id, revoked_at__isnull=True).update(revoked_at=now)
