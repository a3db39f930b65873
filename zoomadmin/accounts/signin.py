"""Sign-in with Zoom: from the sign-in button to a stored connection.

Sign-in is OAuth's authorization-code flow with PKCE (S256). The `state` and the code verifier
live in the session until Zoom sends the browser back; the code is exchanged for tokens, Zoom's
`/v2/users/me` says who signed in, and only Owners and Admins of allowed accounts get a
connection. Every HTTP request to Zoom goes through `zoomadmin.zoom`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.zoom import oauth
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Unauthorized, Unavailable, ZoomError
from zoomadmin.zoom.ratelimit import default_limiter

logger = logging.getLogger(__name__)

# Session keys.
FLOWS_SESSION_KEY = "zoom_signin_flows"
# Sign-ins started but not finished that a session remembers (several tabs); older ones are dropped.
MAX_PENDING_FLOWS = 5
PRIVILEGED_ROLES = ("Owner", "Admin")
STATE_MISMATCH_MESSAGE = (
    "This answer from Zoom does not belong to a sign-in started in this browser (it may be old, "
    "used already, or started elsewhere). Nothing was changed. Start the sign-in again."
)

Purpose = Literal["login", "link"]


class SignInError(Exception):
    """A sign-in that cannot finish; `title` and `message` are shown to the person as they are."""

    title = "Sign-in failed"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignInStateMismatch(SignInError):
    title = "This sign-in link is not valid"


class SignInCancelled(SignInError):
    title = "You cancelled the sign-in"
    status = 200


class SignInCodeRejected(SignInError):
    title = "Zoom did not accept this sign-in"


class SignInZoomUnavailable(SignInError):
    title = "Zoom is not answering"
    status = 503


class SignInForbidden(SignInError):
    title = "You cannot use zoomadmin with this Zoom account"
    status = 403


@dataclass(frozen=True)
class ZoomIdentity:
    """Who signed in, as Zoom's /v2/users/me says."""

    user_id: str
    email: str
    account_id: str
    role: str
    display_name: str
    first_name: str
    last_name: str
    company: str = ""


@dataclass(frozen=True)
class SignInResult:
    """A finished authorization: the purpose it was started for, who signed in, and their tokens."""

    purpose: Purpose
    identity: ZoomIdentity
    tokens: oauth.TokenSet
    # Where the person was going when sign-in was needed (a local path), or "".
    next_path: str = ""


def oauth_config(*, redirect_uri: str = "") -> oauth.OAuthConfig:
    """This installation's Zoom OAuth app; `redirect_uri` matters only for authorize and code exchange."""
    return oauth.OAuthConfig(
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
        oauth_base_url=settings.ZOOM_OAUTH_BASE_URL,
        redirect_uri=redirect_uri,
        scopes=settings.ZOOM_OAUTH_SCOPES,
    )


def signin_start(*, session: SessionBase, purpose: Purpose, redirect_uri: str, next_path: str = "") -> str:
    """Remember a new sign-in (state + PKCE verifier + where to go after) in the session; return Zoom's authorize URL.

    `next_path` must already be checked to be a local path (views.safe_next).
    """
    state = secrets.token_urlsafe(32)
    verifier = oauth.new_code_verifier()
    flows: dict[str, dict[str, str]] = dict(session.get(FLOWS_SESSION_KEY, {}))
    flows[state] = {"verifier": verifier, "purpose": purpose, "next": next_path}
    # Dicts keep insertion order: drop the oldest unfinished sign-ins.
    while len(flows) > MAX_PENDING_FLOWS:
        flows.pop(next(iter(flows)))
    session[FLOWS_SESSION_KEY] = flows
    return oauth.authorization_url(oauth_config(redirect_uri=redirect_uri), state=state, code_verifier=verifier)


def _flow_pop(session: SessionBase, state: str) -> dict[str, str]:
    flows: dict[str, dict[str, str]] = dict(session.get(FLOWS_SESSION_KEY, {}))
    flow = flows.pop(state, None) if state else None
    session[FLOWS_SESSION_KEY] = flows
    if flow is None:
        raise SignInStateMismatch(STATE_MISMATCH_MESSAGE)
    return flow


class _FixedTokens:
    """A TokenSource for a token pair just received: nothing to refresh yet."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def access_token(self) -> str:
        return self._access_token

    def refreshed_access_token(self, rejected: str) -> str:
        raise Unauthorized("Zoom refused the access token it has just issued.")


def _identity_fetch(access_token: str) -> ZoomIdentity:
    with ZoomClient(
        api_base_url=settings.ZOOM_API_BASE_URL,
        # The account is only known once /users/me answers: sign-ins share one rate-limit bucket.
        account_id="signin",
        plan=settings.ZOOM_PLAN,
        tokens=_FixedTokens(access_token),
        limiter=default_limiter(),
        wait_for_slot=True,
    ) as client:
        me = client.me()
    return ZoomIdentity(
        user_id=me.id,
        email=me.email,
        account_id=me.account_id,
        role=me.role_name,
        display_name=me.display_name or f"{me.first_name} {me.last_name}".strip(),
        first_name=me.first_name,
        last_name=me.last_name,
        company=me.company,
    )


def signin_complete(*, session: SessionBase, state: str, code: str, error: str, redirect_uri: str) -> SignInResult:
    """Finish a sign-in from Zoom's redirect: check state, exchange the code, check who signed in.

    Raises a `SignInError` whose message says what happened and what to do; nothing is stored then.
    """
    flow = _flow_pop(session, state)
    if error:
        if error == "access_denied":
            raise SignInCancelled("You chose not to allow zoomadmin on Zoom's consent page. Nothing was stored.")
        raise SignInCodeRejected(f"Zoom answered with the error “{error}”. Start the sign-in again.")
    config = oauth_config(redirect_uri=redirect_uri)
    try:
        tokens = oauth.exchange_code(config, code=code, code_verifier=flow["verifier"])
    except Unavailable as exc:
        raise SignInZoomUnavailable("Zoom did not answer the sign-in in time. Try again in a minute.") from exc
    except ZoomError as exc:
        if exc.status == HTTPStatus.UNAUTHORIZED:
            # Our client id or secret was refused: retrying cannot help until the operator fixes them.
            raise SignInCodeRejected(exc.message) from exc
        raise SignInCodeRejected(
            "Zoom refused the sign-in code: it has expired (codes live five minutes) or was used already. "
            "Start the sign-in again."
        ) from exc
    if not tokens.refresh_token:
        raise SignInCodeRejected("Zoom's answer holds no refresh token; this app must be a user-managed OAuth app.")
    try:
        identity = _identity_fetch(tokens.access_token)
    except Unavailable as exc:
        raise SignInZoomUnavailable("Zoom did not answer in time. Try again in a minute.") from exc
    except ZoomError as exc:
        raise SignInCodeRejected(
            f"Zoom did not tell us who signed in ({exc.message}). The app needs a user-read scope "
            "(ZOOM_OAUTH_SCOPES). Start the sign-in again."
        ) from exc
    try:
        signin_check_allowed(identity=identity)
    except SignInForbidden:
        _grant_discard(config, tokens.access_token)
        raise
    purpose: Purpose = "link" if flow.get("purpose") == "link" else "login"
    return SignInResult(purpose=purpose, identity=identity, tokens=tokens, next_path=flow.get("next", ""))


def _grant_discard(config: oauth.OAuthConfig, access_token: str) -> None:
    """Revoke at Zoom a grant we will not keep (a refused sign-in), so no authorization lingers."""
    try:
        oauth.revoke(config, token=access_token)
    except ZoomError as exc:
        # Best effort: the person is told why they were refused either way; the token is never stored.
        logger.warning("Could not revoke a refused sign-in's token at Zoom: %s", exc.message)


def signin_check_allowed(*, identity: ZoomIdentity) -> None:
    """Only Owners and Admins of accounts in ZOOMADMIN_ALLOWED_ACCOUNTS may use the dashboard."""
    if identity.account_id not in settings.ZOOMADMIN_ALLOWED_ACCOUNTS:
        raise SignInForbidden(
            f"You signed in as {identity.email}, of Zoom account {identity.account_id}. "
            f"Account {identity.account_id} is not allowed on this installation; "
            "ask the operator to add it to ZOOMADMIN_ALLOWED_ACCOUNTS."
        )
    if identity.role not in PRIVILEGED_ROLES:
        article = "an" if identity.role[:1].lower() in "aeiou" else "a"
        raise SignInForbidden(
            f"You signed in as {identity.email}, {article} {identity.role} of account {identity.account_id}; "
            "only Owners and Admins can use zoomadmin."
        )


def account_name_guess(identity: ZoomIdentity) -> str:
    """A first name for a Zoom account we have never seen, until an admin corrects it.

    Zoom's API has no call that names an ordinary account; the signing-in admin's profile
    `company` is, in practice, the company that owns the account. Without one, the email domain.
    """
    return (identity.company.strip() or identity.email.rpartition("@")[2] or identity.email)[:200]


@transaction.atomic
def connection_store(*, result: SignInResult, user: User | None) -> ZoomConnection:
    """Save the connection a finished sign-in grants, creating the dashboard person if needed.

    With `user` (linking while signed in) the connection joins that person; a Zoom identity that
    already belongs to another person is refused. Without `user` (sign-in) the person who holds
    this Zoom identity signs in, or a new person is created for it.
    """
    identity = result.identity
    account, _ = ZoomAccount.objects.get_or_create(
        zoom_id=identity.account_id,
        defaults={"name": account_name_guess(identity), "plan": settings.ZOOM_PLAN},
    )
    existing = (
        ZoomConnection.objects.select_for_update()
        .select_related("user")
        .filter(account=account, zoom_user_id=identity.user_id)
        .first()
    )
    if user is None:
        if existing is not None:
            user = existing.user
        else:
            user = User.objects.create(
                username=f"zoom:{identity.account_id}:{identity.user_id}"[:150],
                email=identity.email,
                first_name=identity.first_name[:150],
                last_name=identity.last_name[:150],
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
    elif existing is not None and existing.user_id != user.pk:
        raise SignInForbidden(
            f"The Zoom user {identity.email} is already linked to another zoomadmin person. "
            "Sign out and sign in with that Zoom user instead."
        )
    connection = (
        existing
        if existing is not None
        else ZoomConnection.objects.select_for_update().filter(user=user, account=account).first()
    )
    if connection is None:
        connection = ZoomConnection(user=user, account=account)
    connection.zoom_user_id = identity.user_id
    connection.zoom_email = identity.email
    connection.zoom_display_name = identity.display_name
    connection.role = identity.role
    assert result.tokens.refresh_token, "signin_complete refuses token sets without a refresh token"
    connection.tokens_set(
        access_token=result.tokens.access_token,
        refresh_token=result.tokens.refresh_token,
        expires_at=result.tokens.expires_at,
        scopes=result.tokens.scope,
    )
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as exc:
        # Two sign-ins of the same person raced; the other one stored the connection.
        raise SignInCodeRejected("Another sign-in for this account finished at the same time. Try again.") from exc
    return connection
