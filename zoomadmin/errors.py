"""The dashboard's answer to a form refused for its CSRF token (settings.CSRF_FAILURE_VIEW)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.csrf import csrf_failure as django_csrf_failure

from zoomadmin.sandbox.middleware import SANDBOX_URLCONF


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 with a sentence (the form expired: nothing changed, reload and send again), in the product's look.

    Rendered without the request like Django's own page, so it works whatever else failed. A request the
    in-process sandbox answers (tests: routed by `request.urlconf`) keeps Django's page, as the sandbox
    does in its own process, where this view is not configured.
    """
    if getattr(request, "urlconf", None) == SANDBOX_URLCONF:
        return django_csrf_failure(request, reason)
    return django_csrf_failure(request, reason, template_name="errors/csrf_failure.html")
