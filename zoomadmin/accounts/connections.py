"""The signed-in person's Zoom connections and the accounts they reach: current, switch, rename, disconnect."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase

from zoomadmin.accounts.crypto import InvalidToken
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection, ZoomPlan
from zoomadmin.accounts.signin import oauth_config
from zoomadmin.audit.models import AuditAction, AuditTarget
from zoomadmin.audit.services import audit_record, changes_between
from zoomadmin.zoom import oauth
from zoomadmin.zoom.errors import Unauthorized, ZoomError

logger = logging.getLogger(__name__)

# The session key of the connection the person works on (the account switcher's choice).
CURRENT_SESSION_KEY = "zoom_connection_id"


def connections_of(user: AbstractBaseUser | Any) -> list[ZoomConnection]:
    """The person's Zoom connections, by account name, with their accounts."""
    return list(
        ZoomConnection.objects.filter(user_id=user.pk).select_related("account").order_by("account__name", "id")
    )


def connection_current(*, session: SessionBase, user: AbstractBaseUser | Any) -> ZoomConnection | None:
    """The connection the session works on: the one last chosen, else the person's first one."""
    if not getattr(user, "is_authenticated", False):
        return None
    connections = ZoomConnection.objects.filter(user_id=user.pk).select_related("account")
    chosen = session.get(CURRENT_SESSION_KEY)
    if chosen is not None:
        connection = connections.filter(pk=chosen).first()
        if connection is not None:
            return connection
    return connections.order_by("account__name", "id").first()


def connection_switch(*, session: SessionBase, user: AbstractBaseUser | Any, connection_id: int) -> ZoomConnection:
    """Make one of the person's own connections current; another person's raises DoesNotExist."""
    connection = ZoomConnection.objects.select_related("account").get(pk=connection_id, user_id=user.pk)
    session[CURRENT_SESSION_KEY] = connection.pk
    return connection


def account_rename(*, account: ZoomAccount, name: str) -> ZoomAccount:
    """Give the account the name its admins know it by (Zoom's API does not tell us); every admin sees it."""
    account.name = name
    account.save(update_fields=["name", "updated"])
    return account


def account_set_plan(*, account: ZoomAccount, plan: str) -> ZoomAccount:
    """Correct the account's Zoom plan, which picks the rate limits every process applies to it.

    Raises ValueError for a plan zoomadmin does not know.
    """
    if plan not in ZoomPlan.values:
        raise ValueError(f"Unknown plan {plan!r}; choose one of {', '.join(ZoomPlan.values)}.")
    account.plan = plan
    account.save(update_fields=["plan", "updated"])
    return account


def account_settings_save(*, account: ZoomAccount, actor: ZoomConnection, name: str, plan: str) -> ZoomAccount:
    """Save the account's name and plan as `actor` and leave an audit event of what changed (if anything)."""
    before = {"name": account.name, "plan": account.plan}
    account_rename(account=account, name=name)
    account_set_plan(account=account, plan=plan)
    changes = changes_between(before, {"name": account.name, "plan": account.plan})
    if changes:
        audit_record(
            account=account,
            actor=actor,
            action=AuditAction.ACCOUNT_SETTINGS,
            target_type=AuditTarget.ACCOUNT,
            target_zoom_id=account.zoom_id,
            target_label=account.name,
            changes=changes,
        )
    return account


@dataclass(frozen=True)
class DisconnectOutcome:
    """What disconnecting did: whether Zoom confirmed the revocation, and what is current now."""

    revoked_at_zoom: bool
    next_connection: ZoomConnection | None


def connection_disconnect(*, session: SessionBase, connection: ZoomConnection) -> DisconnectOutcome:
    """Revoke the connection's token at Zoom and delete it; pick another current connection if needed.

    The row is deleted even when Zoom cannot be reached: the admin asked us to forget the tokens,
    and the outcome says the revocation did not happen so the page can tell them. The account row
    stays (its mirror, audit trail and jobs outlive any one admin's connection).
    """
    revoked = True
    try:
        oauth.revoke(oauth_config(), token=connection.access_token())
    except InvalidToken:
        # Encrypted under a key no longer configured: we cannot revoke what we cannot read.
        revoked = False
    except Unauthorized:
        # Zoom no longer knows the token: there is nothing left to revoke.
        revoked = True
    except ZoomError:
        logger.warning("revoking the Zoom token of connection %s failed", connection.pk, exc_info=True)
        revoked = False
    was_current = session.get(CURRENT_SESSION_KEY) == connection.pk
    user_id = connection.user_id
    connection.delete()
    next_connection = (
        ZoomConnection.objects.filter(user_id=user_id).select_related("account").order_by("account__name", "id").first()
    )
    if was_current:
        if next_connection is not None:
            session[CURRENT_SESSION_KEY] = next_connection.pk
        else:
            session.pop(CURRENT_SESSION_KEY, None)
    return DisconnectOutcome(revoked_at_zoom=revoked, next_connection=next_connection)
