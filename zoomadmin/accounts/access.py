"""Which Zoom connection a request works on, for the views of every app.

An admin only ever sees data of the Zoom account they are signed in to (DESIGN invariant 4):
views get that account from `request_connection`, never from a URL or form field.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.accounts.services import connection_current

_CACHE_ATTR = "_zoomadmin_connection"


def request_connection(request: HttpRequest) -> ZoomConnection | None:
    """The signed-in person's current Zoom connection (looked up once per request), or None."""
    if not hasattr(request, _CACHE_ATTR):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        connection = None
        if user is not None and session is not None:
            connection = connection_current(session=session, user=user)
        setattr(request, _CACHE_ATTR, connection)
    cached: ZoomConnection | None = getattr(request, _CACHE_ATTR)
    return cached


def connection_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let only signed-in people with a current Zoom connection in; others go to sign-in / home."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request_connection(request) is None:
            return redirect("accounts:home")
        return view(request, *args, **kwargs)

    return wrapped
