"""Bearer-token checks of the sandbox API, with Zoom's gateway answers."""

from __future__ import annotations

from django.http import HttpRequest

from zoomadmin.sandbox import tokens
from zoomadmin.sandbox.models import AccessToken


def authenticate_bearer(request: HttpRequest, required_scopes: tuple[str, ...]) -> AccessToken:
    """The request's live access token holding one of `required_scopes`.

    Raises Zoom's 401 `{"code":124,"message":"Invalid access token."}` for a missing, unknown,
    expired or revoked token, and `{"code":4711,...}` (also 401, UNCONFIRMED status) when the token
    lacks every one of the scopes the endpoint accepts.
    """
    from zoomadmin.sandbox.api import ZoomApiError

    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ZoomApiError(401, 124, "Invalid access token.")
    token = tokens.access_token_lookup(raw.strip())
    if token is None:
        raise ZoomApiError(401, 124, "Invalid access token.")
    granted = set(token.scopes.split())
    if required_scopes and not granted.intersection(required_scopes):
        raise ZoomApiError(401, 4711, f"Invalid access token, does not contain scopes:[{', '.join(required_scopes)}].")
    return token
