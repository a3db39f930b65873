"""Answer requests for the sandbox's host names with the sandbox's URLs."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

SANDBOX_URLCONF = "zoomadmin.sandbox.urls"


class SandboxRoutingMiddleware:
    """Route by host: `SANDBOX_HOSTS` names reach the emulator, every other host the dashboard.

    Lets tests (and single-port setups) serve Zoom's URL layout (`/oauth/...`, `/scim2/...`) from the
    same process as the dashboard without mixing the two URL spaces.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read per request, not once at start-up: a live test server outlives the settings of one test.
        hosts = settings.SANDBOX_HOSTS
        if hosts:
            host = request.get_host().rsplit(":", 1)[0].lower()
            if host in {name.lower() for name in hosts}:
                request.urlconf = SANDBOX_URLCONF
        return self.get_response(request)
