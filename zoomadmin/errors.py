"""The dashboard's answer to a form refused for its CSRF token (settings.CSRF_FAILURE_VIEW)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.csrf import csrf_failure as django_csrf_failure

# The in-process sandbox (tests) routes by request.urlconf; the emulator keeps Django's own page there,
# as it does in its own process, where this view is not configured.
_SANDBOX_URLCONF = "zoomadmin.sandbox.urls"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 with a sentence (the form expired: nothing changed, reload and send again), in the product's look.

    Rendered without the request like Django's own page, so it works whatever else failed.
    """
    if getattr(request, "urlconf", None) == _SANDBOX_URLCONF:
        return django_csrf_failure(request, reason)
    return django_csrf_failure(request, reason, template_name="errors/csrf_failure.html")
