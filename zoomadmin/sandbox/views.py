"""The sandbox's own pages: an index of its accounts and apps, and Zoom-shaped 404s."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from zoomadmin.sandbox.api import ScimError
from zoomadmin.sandbox.models import OAuthApp, SandboxAccount


def index(request: HttpRequest) -> HttpResponse:
    """What this sandbox holds, for a person who opens its URL in a browser."""
    accounts = SandboxAccount.objects.order_by("name")
    apps = OAuthApp.objects.select_related("account").order_by("name")
    return render(request, "sandbox/index.html", {"accounts": accounts, "apps": apps})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Endpoints Zoom does not have (`/scim2/Me`, `/scim2/Bulk`, ...) answer 404 in Zoom's shapes."""
    if request.path.startswith("/scim2/"):
        return ScimError(404, "The requested resource was not found.").response()
    return JsonResponse({"code": 404, "message": "Not Found"}, status=404)
