"""Template context for the shell (base.html): the current Zoom connection and the others."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from zoomadmin.accounts.access import request_connection
from zoomadmin.accounts.models import ZoomConnection


def dashboard(request: HttpRequest) -> dict[str, object]:
    """`current_connection` (or None) and `other_connections` of the signed-in person.

    `other_connections` is read only when a template uses it (the header's account menu): the
    partials that htmx swaps in, the users list's results among them, never query it.
    """
    current = request_connection(request)

    def others() -> list[ZoomConnection]:
        if current is None:
            return []
        return list(
            ZoomConnection.objects.filter(user_id=current.user_id)
            .exclude(pk=current.pk)
            .select_related("account")
            .order_by("account__name", "id")
        )

    return {"current_connection": current, "other_connections": SimpleLazyObject(others)}
