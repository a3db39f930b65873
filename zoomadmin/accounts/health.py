"""Connection health: one cheap call to Zoom per active connection, so sign-ins never die unnoticed.

Zoom forgets a refresh token unused for 90 days, and an admin whose sign-in stopped working should
hear it from the dashboard before a job needs that sign-in. A check asks Zoom who the connection's
admin is (`GET /v2/users/me`); the connection's token source refreshes the access token first when
it has expired (which rotates the refresh token and keeps it alive), and marks the connection
"needs sign-in again" when Zoom refuses the refresh. Beat runs `connections_check_all` every
CONNECTION_CHECK_HOURS (docs/celery.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ConnectionStatus, ZoomConnection
from zoomadmin.zoom.errors import RateLimited, Unavailable, ZoomError

logger = logging.getLogger(__name__)

# ZoomConnection.last_check_error's length.
_ERROR_LENGTH = 500


@dataclass(frozen=True)
class CheckOutcome:
    """What one check found: whether Zoom answered, and if not, the sentence for the admin."""

    connection_id: int
    ok: bool
    error: str = ""


def connection_check(*, connection_id: int) -> CheckOutcome | None:
    """Check one connection with Zoom and record when, and what went wrong if anything did.

    Returns None when there is nothing to check: the connection was disconnected or is no longer
    active (it already waits for its admin to sign in again). A refused sign-in is recorded and the
    connection marked "needs sign-in again" (by its token source). A transient failure
    (`RateLimited`, `Unavailable`) is recorded too, then raised so that the task asks again later.
    """
    connection = ZoomConnection.objects.select_related("account").filter(pk=connection_id).first()
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return None
    try:
        with zoom_client(account=connection.account, acting_as=connection) as client:
            client.me()
    except ZoomError as exc:
        _record(connection_id, error=exc.message)
        if isinstance(exc, RateLimited | Unavailable):
            raise
        logger.info("connection %s failed its check: %s", connection_id, exc.message)
        return CheckOutcome(connection_id=connection_id, ok=False, error=exc.message)
    _record(connection_id, error="")
    return CheckOutcome(connection_id=connection_id, ok=True)


def _record(connection_id: int, *, error: str) -> None:
    # update(), not save(): a refresh during the check stored a new token pair on the row, which
    # the instance loaded before it does not hold; saving that instance would put the dead pair back.
    ZoomConnection.objects.filter(pk=connection_id).update(
        last_checked_at=timezone.now(), last_check_error=error[:_ERROR_LENGTH]
    )


def connections_check_all() -> int:
    """Enqueue one check per active connection (once the caller's transaction commits); returns how many."""
    # Imported here: the tasks module is the adapter that calls this module's services.
    from zoomadmin.accounts.tasks import connection_check as check_task

    ids = list(
        ZoomConnection.objects.filter(status=ConnectionStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    for connection_id in ids:
        check_task.delay_on_commit(connection_id=connection_id)
    return len(ids)
