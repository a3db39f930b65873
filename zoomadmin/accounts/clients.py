"""The one door to a Zoom client: every app asks here for a client of a Zoom account.

Whose token a call uses decides whom Zoom (and our audit log) holds responsible, so it is never
chosen by accident:

- **Pages** act as the signed-in admin: `zoom_client(account=..., acting_as=request.zoom_connection)`.
- **Jobs an admin started** (bulk changes) store that admin's connection and act as it. If it is
  disconnected or Zoom refuses it, the job does not quietly borrow another admin's sign-in: it
  gets `NoUsableConnection` and pauses until that admin signs in again.
- **Work nobody started** (periodic sync, enrichment, health checks) passes no `acting_as`: the
  account's Owner is used if connected and working, otherwise the admin whose connection was
  refreshed or stored most recently. With no working connection at all it raises
  `NoUsableConnection`, whose message says who can fix it.

Clients never wait for a rate-limit slot unless asked (`wait_for_slot`): pages fail fast with
`RateLimited`, and Celery tasks reschedule themselves with the wait as countdown (docs/celery.md).
The account's plan, stored on `ZoomAccount`, is the only source of the rate-limit budget.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When

from zoomadmin.accounts.models import ConnectionStatus, ZoomAccount, ZoomConnection
from zoomadmin.accounts.tokens import connection_tokens
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Unauthorized
from zoomadmin.zoom.ratelimit import default_limiter


class NoUsableConnection(Unauthorized):
    """No connection may act on the account now: someone has to sign in with Zoom again."""


def connection_for_system_work(account: ZoomAccount) -> ZoomConnection:
    """The connection that work nobody started acts as: the Owner's, else the most recently refreshed.

    Raises `NoUsableConnection` when no admin of the account has a working connection.
    """
    connection = (
        ZoomConnection.objects.filter(account=account, status=ConnectionStatus.ACTIVE)
        .select_related("account")
        .annotate(is_owner=Case(When(role="Owner", then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-is_owner", "-updated", "id")
        .first()
    )
    if connection is None:
        raise NoUsableConnection(
            f"No admin of {account.name} has a working Zoom sign-in, so zoomadmin cannot reach this account. "
            "An Owner or Admin must sign in with Zoom again."
        )
    return connection


def zoom_client(
    *, account: ZoomAccount, acting_as: ZoomConnection | None = None, wait_for_slot: bool = False
) -> ZoomClient:
    """A client of `account`'s Zoom API, acting as `acting_as` (or as chosen for system work, see above).

    Raises `NoUsableConnection` when the connection to act as cannot be used (disconnected or
    refused by Zoom), and ValueError when `acting_as` belongs to another account (a programming error).
    """
    if acting_as is None:
        acting_as = connection_for_system_work(account)
    elif acting_as.account_id != account.pk:
        raise ValueError(f"Connection {acting_as.pk} does not belong to account {account.zoom_id}.")
    elif acting_as.status != ConnectionStatus.ACTIVE:
        raise NoUsableConnection(
            f"Zoom no longer accepts the sign-in of {acting_as.zoom_email} on {account.name}. "
            f"{acting_as.zoom_email} must sign in with Zoom again."
        )
    return ZoomClient(
        api_base_url=settings.ZOOM_API_BASE_URL,
        account_id=account.zoom_id,
        plan=account.plan,
        tokens=connection_tokens(acting_as),
        limiter=default_limiter(),
        wait_for_slot=wait_for_slot,
    )
