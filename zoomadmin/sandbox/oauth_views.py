"""The sandbox's OAuth endpoints (`/oauth/authorize`, `/oauth/token`, `/oauth/revoke`) and `/v2/users/me`.

The views parse Zoom's request shapes and render its answers; the rules live in `sandbox.oauth`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.csp import CSP
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from zoomadmin.sandbox import oauth
from zoomadmin.sandbox.api import LIGHT, ApiContext, ZoomApiError, allow_methods, api_view
from zoomadmin.sandbox.models import Role, SandboxUser
from zoomadmin.sandbox.tokens import IssuedTokens

# Zoom accepts a user-read scope, classic or granular; `user_info:read` only ever reaches `me`.
USERS_ME_SCOPES = ("user:read", "user:read:admin", "user_info:read", "user:read:user")
# Zoom's numeric user types (Get a user: 1 Basic, 2 Licensed, 3 On-Prem).
USER_TYPES = {"basic": 1, "licensed": 2, "on-prem": 3}


def _client_redirect(location: str) -> HttpResponse:
    # HttpResponseRedirect refuses non-http(s) schemes; a registered redirect URI may be an app's own scheme.
    response = HttpResponse(status=302)
    response["Location"] = location
    return response


def _consent_page(
    request: HttpRequest, auth_request: oauth.AuthorizeRequest, *, problem: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "app": auth_request.app,
        "scopes": auth_request.scope_list(),
        "redirect_uri": auth_request.redirect_uri,
        "accounts": oauth.authorize_user_choices(),
        "chosen": request.POST.get("user", ""),
        "typed": request.POST.get("user_email", ""),
        "problem": problem,
    }
    response = render(request, "sandbox/authorize.html", context, status=status)
    # Browsers apply form-action to the redirect that follows a form post: allow the client's origin.
    target = urlsplit(auth_request.redirect_uri)
    origin = f"{target.scheme}://{target.netloc}" if target.netloc else f"{target.scheme}:"
    response._csp_config = {**settings.SECURE_CSP, "form-action": [CSP.SELF, origin]}  # type: ignore[attr-defined]
    return response


# Exempt from the middleware's CSRF check only so that other methods get Zoom's 405 rather than
# a CSRF page; the consent form's POST is still checked (csrf_protect, inside the method check).
@csrf_exempt
@never_cache
@allow_methods("GET", "POST")
@csrf_protect
def authorize(request: HttpRequest) -> HttpResponse:
    """Zoom's consent page: pick the sandbox user who authorizes, then Authorize or Deny.

    The form posts back to the same URL (query string included), so the request is validated again
    on POST exactly as on GET.
    """
    try:
        auth_request = oauth.authorize_request_parse(params=request.GET)
    except oauth.AuthorizePageError as exc:
        return render(request, "sandbox/authorize.html", {"error": exc}, status=400)
    except oauth.AuthorizeRedirectError as exc:
        return _client_redirect(exc.location)
    if request.method != "POST":
        return _consent_page(request, auth_request)
    decision = request.POST.get("decision")
    if decision == "deny":
        location = oauth.redirect_uri_with(
            auth_request.redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user denied the authorization request.",
                "state": auth_request.state,
            },
        )
        return _client_redirect(location)
    if decision != "authorize":
        return _consent_page(request, auth_request, problem="Choose Authorize or Deny.", status=400)
    try:
        # A typed email (any user of a big account) wins over the list's choice.
        chosen = request.POST.get("user_email", "").strip() or request.POST.get("user", "")
        code = oauth.authorization_code_create(request=auth_request, user_name=chosen)
    except oauth.ConsentRefused as exc:
        return _consent_page(request, auth_request, problem=str(exc), status=400)
    return _client_redirect(
        oauth.redirect_uri_with(auth_request.redirect_uri, {"code": code, "state": auth_request.state})
    )


def _param(request: HttpRequest, name: str) -> str:
    # Zoom reads the form body; older docs put the same parameters in the query string.
    return request.POST.get(name) or request.GET.get(name) or ""


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    """Client id and secret from HTTP Basic auth, else from the `client_id`/`client_secret` parameters."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise oauth.OAuthError(401, "invalid_client", "Invalid client_id or client_secret") from exc
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return _param(request, "client_id"), _param(request, "client_secret")


def _oauth_answer(body: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # RFC 6749 §5.1: token responses must not be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@csrf_exempt
@allow_methods("POST")
def token(request: HttpRequest) -> HttpResponse:
    """`POST /oauth/token`: the authorization_code, refresh_token and account_credentials grants."""
    try:
        client_id, client_secret = _client_credentials(request)
        app = oauth.client_authenticate(client_id=client_id, client_secret=client_secret)
        grant_type = _param(request, "grant_type")
        issued: IssuedTokens
        if grant_type == "authorization_code":
            issued = oauth.token_exchange_code(
                app=app,
                code=_param(request, "code"),
                redirect_uri=_param(request, "redirect_uri"),
                code_verifier=_param(request, "code_verifier"),
            )
        elif grant_type == "refresh_token":
            issued = oauth.token_refresh(app=app, refresh_token=_param(request, "refresh_token"))
        elif grant_type == "account_credentials":
            issued = oauth.token_account_credentials(app=app, account_id=_param(request, "account_id"))
        elif not grant_type:
            raise oauth.OAuthError(400, "invalid_request", "Missing grant type.")
        else:
            raise oauth.OAuthError(400, "unsupported_grant_type", "Unsupported grant type")
    except oauth.OAuthError as exc:
        return _oauth_answer(exc.as_body(), status=exc.status)
    return _oauth_answer(issued.as_response())


@csrf_exempt
@allow_methods("POST")
def revoke(request: HttpRequest) -> HttpResponse:
    """`POST /oauth/revoke`: revoke an access or refresh token (and its pair); always `success` for the app."""
    try:
        client_id, client_secret = _client_credentials(request)
        app = oauth.client_authenticate(client_id=client_id, client_secret=client_secret)
        oauth.token_revoke(app=app, token=_param(request, "token"))
    except oauth.OAuthError as exc:
        return _oauth_answer(exc.as_body(), status=exc.status)
    return _oauth_answer({"status": "success"})


def _user_type(user: SandboxUser) -> int:
    return USER_TYPES.get(user.user_type.lower(), 1)


@allow_methods("GET")
@api_view(label=LIGHT, scopes=USERS_ME_SCOPES, scim=False)
def users_me(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """`GET /v2/users/me`: the token's user; for Server-to-Server tokens, the account owner."""
    user = ctx.user or ctx.account.users.filter(role=Role.OWNER).order_by("id").first()
    if user is None:
        raise ZoomApiError(404, 1001, "User does not exist: me.")
    return JsonResponse(
        {
            "id": user.zoom_id,
            "email": user.user_name,
            "first_name": user.given_name,
            "last_name": user.family_name,
            "display_name": user.display_name,
            "account_id": ctx.account.zoom_id,
            "role_name": user.role,
            "type": _user_type(user),
            "status": user.status,
            # Zoom's Get user returns the profile's company; the sandbox's users work for the account's company.
            "company": ctx.account.name,
        }
    )
