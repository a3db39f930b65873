"""Sign-in with Zoom, the admins' Zoom connections, and their tokens.

Sign-in is OAuth's authorization-code flow with PKCE (S256). The `state` and the code verifier
live in the session until Zoom sends the browser back; the code is exchanged for tokens, Zoom's
`/v2/users/me` says who signed in, and only Owners and Admins of allowed accounts get a
connection. Every HTTP request to Zoom goes through `zoomadmin.zoom`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from zoomadmin.accounts.crypto import InvalidToken, secret_rotate
from zoomadmin.accounts.models import ConnectionStatus, ZoomConnection
from zoomadmin.zoom import oauth
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Unauthorized, Unavailable, ZoomError
from zoomadmin.zoom.ratelimit import default_limiter

logger = logging.getLogger(__name__)

# Session keys.
FLOWS_SESSION_KEY = "zoom_signin_flows"
CURRENT_SESSION_KEY = "zoom_connection_id"
# Sign-ins started but not finished that a session remembers (several tabs); older ones are dropped.
MAX_PENDING_FLOWS = 5
# Refresh an access token this long before it expires, so a request never starts with a dying token.
REFRESH_MARGIN_SECONDS = 60
PRIVILEGED_ROLES = ("Owner", "Admin")

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


@dataclass(frozen=True)
class SignInResult:
    """A finished authorization: the purpose it was started for, who signed in, and their tokens."""

    purpose: Purpose
    identity: ZoomIdentity
    tokens: oauth.TokenSet


def oauth_config(*, redirect_uri: str = "") -> oauth.OAuthConfig:
    """This installation's Zoom OAuth app; `redirect_uri` matters only for authorize and code exchange."""
    return oauth.OAuthConfig(
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
        oauth_base_url=settings.ZOOM_OAUTH_BASE_URL,
        redirect_uri=redirect_uri,
        scopes=settings.ZOOM_OAUTH_SCOPES,
    )


def signin_start(*, session: SessionBase, purpose: Purpose, redirect_uri: str) -> str:
    """Remember a new sign-in (state + PKCE verifier) in the session; return Zoom's authorize URL."""
    state = secrets.token_urlsafe(32)
    verifier = oauth.new_code_verifier()
    flows: dict[str, dict[str, str]] = dict(session.get(FLOWS_SESSION_KEY, {}))
    flows[state] = {"verifier": verifier, "purpose": purpose}
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
        raise SignInStateMismatch(
            "This answer from Zoom does not belong to a sign-in started in this browser (it may be old, "
            "used already, or started elsewhere). Nothing was changed. Start the sign-in again."
        )
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
    return SignInResult(purpose=purpose, identity=identity, tokens=tokens)


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


def _account_name_guess(email: str) -> str:
    # Zoom's /users/me does not name the account: the email domain is the best first guess.
    return email.rpartition("@")[2] or email


@transaction.atomic
def connection_store(*, result: SignInResult, user: User | None) -> ZoomConnection:
    """Save the connection a finished sign-in grants, creating the dashboard person if needed.

    With `user` (linking while signed in) the connection joins that person; a Zoom identity that
    already belongs to another person is refused. Without `user` (sign-in) the person who holds
    this Zoom identity signs in, or a new person is created for it.
    """
    identity = result.identity
    existing = (
        ZoomConnection.objects.select_for_update()
        .select_related("user")
        .filter(zoom_account_id=identity.account_id, zoom_user_id=identity.user_id)
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
        else ZoomConnection.objects.select_for_update().filter(user=user, zoom_account_id=identity.account_id).first()
    )
    if connection is None:
        connection = ZoomConnection(
            user=user,
            zoom_account_id=identity.account_id,
            zoom_account_name=_account_name_guess(identity.email),
            plan=settings.ZOOM_PLAN,
        )
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


def connections_of(user: AbstractBaseUser | Any) -> list[ZoomConnection]:
    """The person's Zoom connections, by account name."""
    return list(ZoomConnection.objects.filter(user_id=user.pk).order_by("zoom_account_name", "id"))


def connection_current(*, session: SessionBase, user: AbstractBaseUser | Any) -> ZoomConnection | None:
    """The connection the session works on: the one last chosen, else the person's first one."""
    if not getattr(user, "is_authenticated", False):
        return None
    connections = ZoomConnection.objects.filter(user_id=user.pk)
    chosen = session.get(CURRENT_SESSION_KEY)
    if chosen is not None:
        connection = connections.filter(pk=chosen).first()
        if connection is not None:
            return connection
    return connections.order_by("zoom_account_name", "id").first()


def connection_switch(*, session: SessionBase, user: AbstractBaseUser | Any, connection_id: int) -> ZoomConnection:
    """Make one of the person's own connections current; another person's raises DoesNotExist."""
    connection = ZoomConnection.objects.get(pk=connection_id, user_id=user.pk)
    session[CURRENT_SESSION_KEY] = connection.pk
    return connection


def connection_rename(*, connection: ZoomConnection, name: str) -> ZoomConnection:
    """Give the connection's account the name admins know it by (Zoom does not tell us)."""
    connection.zoom_account_name = name
    connection.save(update_fields=["zoom_account_name", "updated"])
    return connection


@dataclass(frozen=True)
class DisconnectOutcome:
    """What disconnecting did: whether Zoom confirmed the revocation, and what is current now."""

    revoked_at_zoom: bool
    next_connection: ZoomConnection | None


def connection_disconnect(*, session: SessionBase, connection: ZoomConnection) -> DisconnectOutcome:
    """Revoke the connection's token at Zoom and delete it; pick another current connection if needed.

    The row is deleted even when Zoom cannot be reached: the admin asked us to forget the tokens,
    and the outcome says the revocation did not happen so the page can tell them.
    """
    revoked = True
    try:
        oauth.revoke(oauth_config(), token=connection.access_token())
    except InvalidToken:
        # Encrypted under a key no longer configured: we cannot revoke what we cannot read.
        revoked = False
    except Unauthorized:
        # Zoom no longer knows the token: there is nothing left to revoke.
        revoked = True
    except ZoomError:
        logger.warning("revoking the Zoom token of connection %s failed", connection.pk, exc_info=True)
        revoked = False
    was_current = session.get(CURRENT_SESSION_KEY) == connection.pk
    user_id = connection.user_id
    connection.delete()
    next_connection = ZoomConnection.objects.filter(user_id=user_id).order_by("zoom_account_name", "id").first()
    if was_current:
        if next_connection is not None:
            session[CURRENT_SESSION_KEY] = next_connection.pk
        else:
            session.pop(CURRENT_SESSION_KEY, None)
    return DisconnectOutcome(revoked_at_zoom=revoked, next_connection=next_connection)


class ConnectionTokens:
    """The TokenSource of one connection, with single-flight refresh across processes.

    Zoom rotates refresh tokens: the old one dies when a new one is issued. Two processes
    refreshing at once would leave one of them (and then the connection) with a dead token, so a
    refresh locks the connection's row, re-reads it, and reuses a token another process already
    obtained. The new pair is committed before the new access token is used, so a crash after
    Zoom's answer cannot lose the only valid refresh token.
    """

    def __init__(self, connection: ZoomConnection) -> None:
        self._connection_id = connection.pk
        self._access_token = connection.access_token()
        self._expires_at = connection.access_expires_at
        self._status = connection.status

    def __repr__(self) -> str:
        return f"<ConnectionTokens of connection {self._connection_id}>"

    def access_token(self) -> str:
        """A usable access token: the one we hold, or a fresh one when it expires within a minute."""
        if self._status != ConnectionStatus.ACTIVE:
            raise Unauthorized()
        if self._expires_at <= _soon():
            return self.refreshed_access_token(self._access_token)
        return self._access_token

    def refreshed_access_token(self, rejected: str) -> str:
        """A token other than `rejected`: another process's fresh one, or one we refresh now."""
        needs_reauth = False
        with transaction.atomic():
            connection = ZoomConnection.objects.select_for_update().filter(pk=self._connection_id).first()
            if connection is None:
                raise Unauthorized("This Zoom connection was disconnected.")
            if connection.status != ConnectionStatus.ACTIVE:
                raise Unauthorized()
            current = connection.access_token()
            if current != rejected and not connection.access_expires_within(REFRESH_MARGIN_SECONDS):
                self._remember(connection)
                return current
            try:
                tokens = oauth.refresh(oauth_config(), refresh_token=connection.refresh_token())
            except Unauthorized:
                connection.status = ConnectionStatus.NEEDS_REAUTH
                connection.save(update_fields=["status", "updated"])
                needs_reauth = True
            else:
                connection.tokens_set(
                    access_token=tokens.access_token,
                    # Zoom always rotates; should an answer lack a new one, the old one is still ours.
                    refresh_token=tokens.refresh_token or connection.refresh_token(),
                    expires_at=tokens.expires_at,
                    scopes=tokens.scope,
                )
                connection.save()
        # Outside the block: the new status / token pair is committed before anyone acts on it.
        self._remember(connection)
        if needs_reauth:
            logger.info("Zoom refused the refresh token of connection %s: sign-in needed", connection.pk)
            raise Unauthorized()
        return self._access_token

    def _remember(self, connection: ZoomConnection) -> None:
        self._access_token = connection.access_token()
        self._expires_at = connection.access_expires_at
        self._status = connection.status


def _soon() -> datetime:
    return timezone.now() + timedelta(seconds=REFRESH_MARGIN_SECONDS)


def connection_tokens(connection: ZoomConnection) -> ConnectionTokens:
    """The TokenSource of `connection` for a ZoomClient (refreshes single-flight, see ConnectionTokens)."""
    return ConnectionTokens(connection)


def zoom_client_for(connection: ZoomConnection, *, wait_for_slot: bool) -> ZoomClient:
    """A Zoom client acting as the connection's admin on its account, sharing the account's rate limit.

    `wait_for_slot`: wait for the rate limiter (background jobs) or raise RateLimited at once (pages).
    """
    return ZoomClient(
        api_base_url=settings.ZOOM_API_BASE_URL,
        account_id=connection.zoom_account_id,
        plan=connection.plan,
        tokens=connection_tokens(connection),
        limiter=default_limiter(),
        wait_for_slot=wait_for_slot,
    )


def connections_reencrypt(*, batch_size: int = 200) -> int:
    """Re-encrypt every connection's tokens under the newest key; returns how many rows were done.

    Each row is locked while it is rewritten so a concurrent refresh cannot be overwritten with
    the old pair. Raises ValueError naming the connection if no configured key opens its tokens.
    """
    done = 0
    ids = list(ZoomConnection.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for connection in ZoomConnection.objects.select_for_update().filter(pk__in=ids[start : start + batch_size]):
                try:
                    connection.access_token_encrypted = secret_rotate(connection.access_token_encrypted)
                    connection.refresh_token_encrypted = secret_rotate(connection.refresh_token_encrypted)
                except InvalidToken as exc:
                    raise ValueError(
                        f"No key in FIELD_ENCRYPTION_KEY opens the tokens of connection {connection.pk}; "
                        "put back the key they were encrypted with."
                    ) from exc
                # update() skips auto_now: re-encrypting changes nothing an admin would call an update.
                ZoomConnection.objects.filter(pk=connection.pk).update(
                    access_token_encrypted=connection.access_token_encrypted,
                    refresh_token_encrypted=connection.refresh_token_encrypted,
                )
                done += 1
    return done
