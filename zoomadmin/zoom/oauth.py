"""Zoom's OAuth 2.0 endpoints (`/oauth/authorize`, `/oauth/token`, `/oauth/revoke`) via authlib.

Authlib's httpx2 `OAuth2Client` builds the requests (PKCE S256, HTTP Basic client auth); this
module turns Zoom's answers into a `TokenSet` or into the exceptions of `zoomadmin.zoom.errors`:
a dead refresh token (`invalid_grant`) is `Unauthorized` (the admin must sign in again), other
refusals are `Invalid`, a slow or failing Zoom is `Unavailable`. Tokens never appear in messages
or logs.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.httpx_client import OAuthError as AuthlibOAuthError

from zoomadmin.zoom.client import MAX_DETAIL_CHARS, retry_after_seconds
from zoomadmin.zoom.errors import Invalid, RateLimited, Unauthorized, Unavailable
from zoomadmin.zoom.transport import default_timeout, default_transport, json_object, user_agent

logger = logging.getLogger(__name__)

# Zoom: https://developers.zoom.us/docs/integrations/oauth/ (endpoints under the OAuth base URL)
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path, not a secret)
REVOKE_PATH = "/oauth/revoke"
# Zoom's access tokens live one hour; used when an answer leaves `expires_in` out.
DEFAULT_EXPIRES_IN = 3600


@dataclass(frozen=True)
class OAuthConfig:
    """This installation's Zoom OAuth app. `scopes` is space-separated, as Zoom writes it."""

    client_id: str
    client_secret: str
    oauth_base_url: str
    redirect_uri: str
    scopes: str

    def __repr__(self) -> str:
        # The secret stays out of tracebacks and logs.
        return f"OAuthConfig(client_id={self.client_id!r}, oauth_base_url={self.oauth_base_url!r})"


@dataclass(frozen=True)
class TokenSet:
    """What Zoom's token endpoint hands out. `refresh_token` is None for server-to-server tokens."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: str

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scope={self.scope!r})"


def new_code_verifier() -> str:
    """A fresh PKCE code verifier (RFC 7636: 43 to 128 unreserved characters; this gives 86)."""
    return secrets.token_urlsafe(64)


# Zoom: https://developers.zoom.us/docs/integrations/oauth/#step-1-request-user-authorization
def authorization_url(config: OAuthConfig, *, state: str, code_verifier: str) -> str:
    """Zoom's consent page URL for `config`, with `state` and a PKCE S256 challenge of `code_verifier`."""
    with _client(config) as client:
        url, _ = client.create_authorization_url(
            _url(config, AUTHORIZE_PATH), state=state, code_verifier=code_verifier, scope=config.scopes
        )
    return str(url)


# Zoom: https://developers.zoom.us/docs/integrations/oauth/#step-2-request-access-token
def exchange_code(config: OAuthConfig, *, code: str, code_verifier: str) -> TokenSet:
    """Exchange the code from Zoom's redirect for tokens. A used/expired code or wrong verifier: `Invalid`."""
    with _client(config) as client, _answers("exchange the sign-in code"):
        token = client.fetch_token(
            _url(config, TOKEN_PATH),
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            redirect_uri=config.redirect_uri,
        )
    return _token_set(token)


# Zoom: https://developers.zoom.us/docs/integrations/oauth/#refreshing-an-access-token
def refresh(config: OAuthConfig, *, refresh_token: str) -> TokenSet:
    """A new token pair. Zoom rotates refresh tokens: store the new one before using the access token.

    Raises `Unauthorized` when Zoom refuses the refresh token (rotated, revoked or expired).
    """
    with _client(config) as client, _answers("refresh the sign-in", dead_grant=True):
        token = client.refresh_token(_url(config, TOKEN_PATH), refresh_token=refresh_token)
    return _token_set(token)


# Zoom: https://developers.zoom.us/docs/internal-apps/s2s-oauth/
def account_credentials(config: OAuthConfig, *, account_id: str) -> TokenSet:
    """A server-to-server token for `account_id` (no refresh token: ask again when it expires)."""
    with _client(config) as client, _answers("get a server-to-server token"):
        token = client.fetch_token(_url(config, TOKEN_PATH), grant_type="account_credentials", account_id=account_id)
    return _token_set(token)


# Zoom: https://developers.zoom.us/docs/integrations/oauth/#revoking-an-access-token
def revoke(config: OAuthConfig, *, token: str) -> None:
    """Revoke `token` at Zoom (its refresh token dies with it)."""
    with _client(config) as client, _answers("revoke the sign-in"):
        response = client.revoke_token(_url(config, REVOKE_PATH), token=token)
        _check(response, what="revoke the sign-in", dead_grant=False)


def _url(config: OAuthConfig, path: str) -> str:
    return f"{config.oauth_base_url.rstrip('/')}{path}"


@contextmanager
def _client(config: OAuthConfig) -> Iterator[OAuth2Client]:
    # No `scope` on the client: authlib would add it to refresh requests, and Zoom refuses a
    # refresh whose scopes differ from the grant's (error 4711). Scopes go on the authorize URL only.
    client = OAuth2Client(
        client_id=config.client_id,
        client_secret=config.client_secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        revocation_endpoint_auth_method="client_secret_basic",
        redirect_uri=config.redirect_uri or None,
        code_challenge_method="S256",
        transport=default_transport(),
        timeout=default_timeout(),
        headers={"User-Agent": user_agent()},
        follow_redirects=False,
    )
    for hook in ("access_token_response", "refresh_token_response"):
        client.register_compliance_hook(hook, _token_response_hook(dead_grant=hook == "refresh_token_response"))
    with client:
        yield client


def _token_response_hook(*, dead_grant: bool) -> Any:
    def hook(response: httpx2.Response) -> httpx2.Response:
        _check(response, what="get a token", dead_grant=dead_grant)
        return response

    return hook


def _check(response: httpx2.Response, *, what: str, dead_grant: bool) -> None:
    """Raise our exception for a failed token-endpoint answer; a success passes through."""
    if response.is_success:
        return
    status = response.status_code
    body = json_object(response)
    error = str(body.get("error") or "")[:MAX_DETAIL_CHARS]
    # Zoom explains in `reason`; RFC 6749 servers in `error_description`.
    reason = str(body.get("reason") or body.get("error_description") or body.get("message") or "")[:MAX_DETAIL_CHARS]
    detail = f"{error}: {reason}" if error and reason else error or reason or f"HTTP {status}"
    logger.info("Zoom OAuth refused to %s: %s %s", what, status, detail)
    if status == httpx2.codes.TOO_MANY_REQUESTS:
        wait = retry_after_seconds(response.headers)
        raise RateLimited(retry_after=1.0 if wait is None else wait, detail=detail)
    if status >= httpx2.codes.INTERNAL_SERVER_ERROR:
        raise Unavailable(
            f"Zoom's sign-in service failed ({status}) while trying to {what}. Try again in a few minutes.",
            detail=detail,
            status=status,
        )
    if error == "invalid_client" or status == httpx2.codes.UNAUTHORIZED:
        raise Invalid(
            "Zoom does not recognise this installation's OAuth app: check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET.",
            detail=detail,
            status=status,
        )
    if dead_grant:
        # Zoom's `error` for a stale refresh token is UNCONFIRMED (`invalid_grant` and `invalid_request`
        # both seen): any other 4xx means this grant is unusable and the admin must sign in again.
        raise Unauthorized(
            "Zoom no longer accepts this sign-in (it was revoked, replaced or has expired). Sign in with Zoom again.",
            detail=detail,
            status=status,
        )
    raise Invalid(f"Zoom refused to {what}: {reason or error or status}.", detail=detail, status=status)


@contextmanager
def _answers(what: str, *, dead_grant: bool = False) -> Iterator[None]:
    """Map transport failures and authlib's own errors (e.g. an error inside a 200) to ours."""
    try:
        yield
    except httpx2.TimeoutException:
        raise Unavailable(f"Zoom did not answer in time while trying to {what}.", detail="timeout") from None
    except httpx2.TransportError as exc:
        raise Unavailable(f"Zoom cannot be reached to {what}.", detail=type(exc).__name__) from None
    except AuthlibOAuthError as exc:
        if dead_grant and exc.error == "invalid_grant":
            raise Unauthorized(detail=str(exc.error)) from None
        raise Invalid(f"Zoom refused to {what}: {exc.error}.", detail=str(exc.error)) from None
    except ValueError as exc:
        # authlib: the token endpoint answered something that is not a JSON object.
        raise Unavailable(f"Zoom answered unreadably while trying to {what}.", detail=str(exc)[:200]) from None


def _token_set(token: dict[str, Any]) -> TokenSet:
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise Unavailable("Zoom's token answer holds no access token.", detail="no access_token")
    expires_at = token.get("expires_at")
    if isinstance(expires_at, int | float):
        moment = datetime.fromtimestamp(expires_at, tz=UTC)
    else:
        moment = datetime.now(tz=UTC) + timedelta(seconds=DEFAULT_EXPIRES_IN)
    refresh_token = token.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_at=moment,
        scope=str(token.get("scope") or ""),
    )
