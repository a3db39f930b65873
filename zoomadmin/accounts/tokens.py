"""The tokens of Zoom connections: single-flight refresh across processes, and key rotation at rest."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from zoomadmin.accounts.crypto import InvalidToken, secret_rotate
from zoomadmin.accounts.models import ConnectionStatus, ZoomConnection
from zoomadmin.accounts.signin import oauth_config
from zoomadmin.zoom import oauth
from zoomadmin.zoom.errors import Unauthorized

logger = logging.getLogger(__name__)

# Refresh an access token this long before it expires, so a request never starts with a dying token.
REFRESH_MARGIN_SECONDS = 60


class ConnectionTokens:
    """The TokenSource of one connection, with single-flight refresh across processes.

    Zoom rotates refresh tokens: the old one dies when a new one is issued. Two processes
    refreshing at once would leave one of them (and then the connection) with a dead token, so a
    refresh locks the connection's row, re-reads it, and reuses a token another process already
    obtained. The new pair is committed before the new access token is used, so a crash after
    Zoom's answer cannot lose the only valid refresh token.
    """

    def __init__(self, connection: ZoomConnection) -> None:
        self._connection_id = connection.pk
        self._access_token = connection.access_token()
        self._expires_at = connection.access_expires_at
        self._status = connection.status

    def __repr__(self) -> str:
        return f"<ConnectionTokens of connection {self._connection_id}>"

    def access_token(self) -> str:
        """A usable access token: the one we hold, or a fresh one when it expires within a minute."""
        if self._status != ConnectionStatus.ACTIVE:
            raise Unauthorized()
        if self._expires_at <= _soon():
            return self.refreshed_access_token(self._access_token)
        return self._access_token

    def refreshed_access_token(self, rejected: str) -> str:
        """A token other than `rejected`: another process's fresh one, or one we refresh now."""
        needs_reauth = False
        with transaction.atomic():
            connection = ZoomConnection.objects.select_for_update().filter(pk=self._connection_id).first()
            if connection is None:
                raise Unauthorized("This Zoom connection was disconnected.")
            if connection.status != ConnectionStatus.ACTIVE:
                raise Unauthorized()
            current = connection.access_token()
            if current != rejected and not connection.access_expires_within(REFRESH_MARGIN_SECONDS):
                self._remember(connection)
                return current
            try:
                tokens = oauth.refresh(oauth_config(), refresh_token=connection.refresh_token())
            except Unauthorized:
                connection.status = ConnectionStatus.NEEDS_REAUTH
                connection.save(update_fields=["status", "updated"])
                needs_reauth = True
            else:
                connection.tokens_set(
                    access_token=tokens.access_token,
                    # Zoom always rotates; should an answer lack a new one, the old one is still ours.
                    refresh_token=tokens.refresh_token or connection.refresh_token(),
                    expires_at=tokens.expires_at,
                    scopes=tokens.scope,
                )
                connection.save()
        # Outside the block: the new status / token pair is committed before anyone acts on it.
        self._remember(connection)
        if needs_reauth:
            logger.info("Zoom refused the refresh token of connection %s: sign-in needed", connection.pk)
            raise Unauthorized()
        return self._access_token

    def _remember(self, connection: ZoomConnection) -> None:
        self._access_token = connection.access_token()
        self._expires_at = connection.access_expires_at
        self._status = connection.status


def _soon() -> datetime:
    return timezone.now() + timedelta(seconds=REFRESH_MARGIN_SECONDS)


def connection_tokens(connection: ZoomConnection) -> ConnectionTokens:
    """The TokenSource of `connection` for a ZoomClient (refreshes single-flight, see ConnectionTokens)."""
    return ConnectionTokens(connection)


def connections_reencrypt(*, batch_size: int = 200) -> int:
    """Re-encrypt every connection's tokens under the newest key; returns how many rows were done.

    Each row is locked while it is rewritten so a concurrent refresh cannot be overwritten with
    the old pair. Raises ValueError naming the connection if no configured key opens its tokens.
    """
    done = 0
    ids = list(ZoomConnection.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for connection in ZoomConnection.objects.select_for_update().filter(pk__in=ids[start : start + batch_size]):
                try:
                    connection.access_token_encrypted = secret_rotate(connection.access_token_encrypted)
                    connection.refresh_token_encrypted = secret_rotate(connection.refresh_token_encrypted)
                except InvalidToken as exc:
                    raise ValueError(
                        f"No key in FIELD_ENCRYPTION_KEY opens the tokens of connection {connection.pk}; "
                        "put back the key they were encrypted with."
                    ) from exc
                # update() skips auto_now: re-encrypting changes nothing an admin would call an update.
                ZoomConnection.objects.filter(pk=connection.pk).update(
                    access_token_encrypted=connection.access_token_encrypted,
                    refresh_token_encrypted=connection.refresh_token_encrypted,
                )
                done += 1
    return done
