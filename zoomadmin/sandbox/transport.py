"""An in-process transport to the sandbox, for tests and benchmarks: no sockets, same answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx2
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.http import HttpRequest, HttpResponseBase
from django.urls import get_script_prefix, get_urlconf, set_script_prefix, set_urlconf

from zoomadmin.sandbox.middleware import SANDBOX_URLCONF


class SandboxWSGIHandler(WSGIHandler):
    """Django's WSGI handler with every request routed to the sandbox's URLs."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)

    def __call__(  # type: ignore[override]  # a WSGI iterable, not an HttpResponse (its close() signals)
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # Unlike WSGIHandler.__call__, send neither request_started nor request_finished: their
        # receiver close_old_connections would close the *caller's* database connection (same
        # thread), which may be inside a transaction (a test, a token refresh holding a row lock).
        # The caller's urlconf and script prefix are thread-local too: put them back afterwards.
        urlconf, prefix = get_urlconf(), get_script_prefix()
        try:
            set_script_prefix(get_script_name(environ))
            response = self.get_response(self.request_class(environ))
            body = b"".join(response)
            headers = [
                *response.items(),
                *(("Set-Cookie", cookie.OutputString()) for cookie in response.cookies.values()),
            ]
            start_response(f"{response.status_code} {response.reason_phrase}", headers)
            return [body]
        finally:
            set_urlconf(urlconf)
            set_script_prefix(prefix)


def sandbox_transport(**kwargs: Any) -> httpx2.WSGITransport:
    """An httpx2 transport that calls the sandbox inside this process."""
    return httpx2.WSGITransport(app=SandboxWSGIHandler(), **kwargs)
