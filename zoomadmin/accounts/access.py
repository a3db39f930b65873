"""Which Zoom connection a request works on, for the views of every app.

An admin only ever sees data of the Zoom account they are signed in to (DESIGN invariant 4):
views get that account from `request_connection`, never from a URL or form field.
"""

from __future__ import annotations

from django.http import HttpRequest

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
