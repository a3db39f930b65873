"""Template context for the shell (base.html): the current Zoom connection and the others."""

from __future__ import annotations

from django.http import HttpRequest

from zoomadmin.accounts.access import request_connection
from zoomadmin.accounts.models import ZoomConnection


def dashboard(request: HttpRequest) -> dict[str, object]:
    """`current_connection` (or None) and `other_connections` of the signed-in person."""
    current = request_connection(request)
    others: list[ZoomConnection] = []
    if current is not None:
        others = list(
            ZoomConnection.objects.filter(user_id=current.user_id)
            .exclude(pk=current.pk)
            .select_related("account")
            .order_by("account__name", "id")
        )
    return {"current_connection": current, "other_connections": others}
