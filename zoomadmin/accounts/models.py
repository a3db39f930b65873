"""Dashboard admins and their connections to Zoom accounts.

A dashboard person is a Django `User`, created the first time they sign in with Zoom. Each Zoom
account they sign in to (or link while signed in) is a `ZoomConnection` holding that admin's
OAuth tokens for the account, encrypted at rest. One person may hold connections to several
accounts (MSPs) and switch between them; a Zoom identity belongs to at most one person.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from zoomadmin.accounts.crypto import secret_decrypt, secret_encrypt


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs sign-in again"
    REVOKED = "revoked", "Revoked"


class ZoomPlan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    BUSINESS = "business", "Business+"


class ZoomConnection(models.Model):
    """One admin's OAuth grant on one Zoom account, with what Zoom told us about them there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_connections")
    zoom_account_id = models.CharField(max_length=64)
    # Zoom's /v2/users/me does not name the account; starts as the email domain, editable.
    zoom_account_name = models.CharField(max_length=200)
    zoom_user_id = models.CharField(max_length=64)
    zoom_email = models.EmailField(max_length=254)
    zoom_display_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=64)
    # Picks the account's rate limits; Zoom's API does not report the plan (settings.ZOOM_PLAN).
    plan = models.CharField(max_length=16, choices=ZoomPlan.choices, default=ZoomPlan.BUSINESS)
    # Fernet ciphertexts (crypto.py); read and write them through the methods below.
    access_token_encrypted = models.TextField(editable=False)
    refresh_token_encrypted = models.TextField(editable=False)
    access_expires_at = models.DateTimeField()
    scopes = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "zoom_account_id"], name="zoomconnection_user_account_unique"),
            # A Zoom identity signs in as exactly one dashboard person.
            models.UniqueConstraint(
                fields=["zoom_account_id", "zoom_user_id"], name="zoomconnection_zoom_identity_unique"
            ),
        ]
        ordering: ClassVar = ["zoom_account_name", "id"]

    def __str__(self) -> str:
        # Shown in the admin and in logs: never the tokens.
        return f"{self.zoom_email} on {self.zoom_account_name} ({self.zoom_account_id})"

    def __repr__(self) -> str:
        return f"<ZoomConnection {self.pk}: {self.zoom_email} on {self.zoom_account_id} [{self.status}]>"

    @property
    def needs_reauth(self) -> bool:
        """Zoom refused our refresh token: the admin must sign in with Zoom again for this account."""
        return self.status == ConnectionStatus.NEEDS_REAUTH

    def access_token(self) -> str:
        """The decrypted access token (never log or render it)."""
        return secret_decrypt(self.access_token_encrypted)

    def refresh_token(self) -> str:
        """The decrypted refresh token (never log or render it)."""
        return secret_decrypt(self.refresh_token_encrypted)

    def tokens_set(self, *, access_token: str, refresh_token: str, expires_at: datetime, scopes: str) -> None:
        """Store a new token pair (encrypted) and mark the connection active; the caller saves."""
        self.access_token_encrypted = secret_encrypt(access_token)
        self.refresh_token_encrypted = secret_encrypt(refresh_token)
        self.access_expires_at = expires_at
        self.scopes = scopes
        self.status = ConnectionStatus.ACTIVE

    def access_expires_within(self, seconds: float) -> bool:
        """Whether the stored access token is expired or will be within `seconds`."""
        return self.access_expires_at <= timezone.now() + timedelta(seconds=seconds)
