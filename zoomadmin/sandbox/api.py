"""The frame every sandbox API endpoint runs in, in Zoom's order of checks.

bearer token (401 code 124 / missing scope 4711) → rate limit of the account and label (429 with
Zoom's headers) → injected faults (latency, 5xx, hang) → SSO switch (SCIM only) → the handler.
Handlers raise `ScimError` / `ZoomApiError` and return plain data; this module renders both the
way Zoom does: SCIM errors with a *numeric* `status`, gateway errors as `{"code", "message"}`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from zoomadmin.sandbox import ARRIVED_US, auth, faults, ratelimit
from zoomadmin.sandbox.models import AccessToken, SandboxAccount, SandboxUser
from zoomadmin.sandbox.ratelimit import HEAVY, LIGHT, MEDIUM, RESOURCE_INTENSIVE

__all__ = [
    "HEAVY",
    "LIGHT",
    "MEDIUM",
    "RESOURCE_INTENSIVE",
    "ApiContext",
    "ScimError",
    "ZoomApiError",
    "allow_methods",
    "api_view",
    "method_not_allowed",
    "path_error",
]

SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
# Every SCIM2 operation needs one of these (classic or granular name).
SCIM_SCOPES = ("scim2", "scim2:admin")
# Zoom caps PATCH bodies at 100,000 characters.
MAX_BODY_CHARS = 100_000


class ScimError(Exception):
    """An error Zoom's SCIM handlers answer with a SCIM Error body (numeric `status`)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def response(self) -> HttpResponse:
        body: dict[str, Any] = {"schemas": [SCIM_ERROR_SCHEMA], "detail": self.detail, "status": self.status}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return JsonResponse(body, status=self.status)


class ZoomApiError(Exception):
    """An error Zoom's API gateway answers with `{"code": int, "message": str}`."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        response = JsonResponse({"code": self.code, "message": self.message}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


@dataclass(frozen=True)
class ApiContext:
    """Who is calling: the token, its account and (for user tokens) the authorizing user."""

    token: AccessToken
    account: SandboxAccount
    user: SandboxUser | None


Handler = Callable[..., HttpResponse]


def api_view(*, label: str, scopes: tuple[str, ...], scim: bool = True) -> Callable[[Handler], Handler]:
    """Wrap a handler `(request, ctx, **kwargs)` in auth, rate limit, faults and error rendering."""

    def decorate(handler: Handler) -> Handler:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            # Zoom counts a request when it arrives, before it authenticates it: when the server
            # handed it over (ARRIVED_US), or now for a request that did not come through zoomadmin.wsgi.
            arrived_us = request.META.get(ARRIVED_US) or time.time_ns() // 1000
            rate_headers: dict[str, str] = {}
            try:
                token = auth.authenticate_bearer(request, scopes)
                account = token.account
                decision = ratelimit.consume(
                    account, label, endpoint=f"{request.method} {handler.__name__}", scim=scim, arrived_us=arrived_us
                )
                rate_headers = decision.headers
                if not decision.allowed:
                    raise ZoomApiError(429, 429, decision.message, headers=rate_headers)
                fault = faults.inject(account)
                if fault is not None:
                    response = fault
                else:
                    if scim and not account.sso_enabled:
                        raise ScimError(400, "Account has not enabled Single Sign-On.")
                    response = handler(request, ApiContext(token=token, account=account, user=token.user), **kwargs)
            except (ScimError, ZoomApiError) as exc:
                response = exc.response()
            for name, value in rate_headers.items():
                response.setdefault(name, value)
            return response

        return view

    return decorate


def path_error(request: HttpRequest, status: int, *, detail: str, message: str) -> HttpResponse:
    """An error no handler produced (unknown path, wrong method, crash), in the shape Zoom uses there.

    SCIM paths answer a SCIM Error body (`detail`); every other path Zoom's `{"code", "message"}`.
    """
    if request.path_info.startswith("/scim2/"):
        return ScimError(status, detail).response()
    return ZoomApiError(status, status, message).response()


def method_not_allowed(request: HttpRequest, allowed: Iterable[str]) -> HttpResponse:
    """Zoom's 405 for a method a path does not serve, with the `Allow` header HTTP asks for."""
    response = path_error(
        request,
        405,
        detail=f"The {request.method} method is not allowed on this resource.",
        message="Method Not Allowed",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def allow_methods(*methods: str) -> Callable[[Handler], Handler]:
    """Django's `require_http_methods`, answering a Zoom-shaped JSON 405 instead of an empty one."""

    def decorate(view: Handler) -> Handler:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return method_not_allowed(request, methods)
            return view(request, *args, **kwargs)

        return checked

    return decorate


def read_json_body(request: HttpRequest, *, limit: int | None = None) -> dict[str, Any]:
    """The request's JSON object, or Zoom's 400 messages for a bad, empty or oversized body."""
    try:
        body = request.body
    except RequestDataTooBig as exc:
        # Past DATA_UPLOAD_MAX_MEMORY_SIZE Django refuses to read the body; answer in SCIM's shape.
        raise ScimError(400, "The request body is too large.") from exc
    raw = body.decode("utf-8", errors="replace")
    if limit is not None and len(raw) > limit:
        raise ScimError(400, f"The request body must not exceed {limit} characters.")
    if not raw.strip():
        raise ScimError(400, "The request JSON must not be empty.")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ScimError(400, "The request body must be in JSON format.") from exc
    if not isinstance(data, dict) or not data:
        raise ScimError(400, "The request JSON must not be empty.")
    return data


def scim_json(data: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """A SCIM resource answer. Zoom labels its SCIM responses `application/json`."""
    return JsonResponse(data, status=status)
