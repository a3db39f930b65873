"""An in-process transport to the sandbox, for tests and benchmarks: no sockets, same answers."""

from __future__ import annotations

from typing import Any

import httpx2
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

from zoomadmin.sandbox.middleware import SANDBOX_URLCONF


class SandboxWSGIHandler(WSGIHandler):
    """Django's WSGI handler with every request routed to the sandbox's URLs."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


def sandbox_transport(**kwargs: Any) -> httpx2.WSGITransport:
    """An httpx2 transport that calls the sandbox inside this process."""
    return httpx2.WSGITransport(app=SandboxWSGIHandler(), **kwargs)
