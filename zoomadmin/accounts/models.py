"""Zoom accounts, dashboard admins and their connections to those accounts.

A `ZoomAccount` is one Zoom account as this installation knows it: its id, the name admins call
it, its plan (which picks the rate limits) and when its mirror was last synced. Every admin
connected to the account shares the row; the mirror, audit events and jobs hang off it.

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


class ZoomAccount(models.Model):
    """One Zoom account, shared by every admin connected to it.

    The plan is stored here, not per connection, because the rate-limit counters are per account:
    two admins of one account must never apply different budgets to the same shared bucket.
    """

    zoom_id = models.CharField(max_length=64, unique=True)
    # Zoom's API does not name the account: the first sign-in guesses (see signin.py), admins correct it.
    name = models.CharField(max_length=200)
    # Picks the account's rate limits; Zoom's API does not report the plan (default: settings.ZOOM_PLAN).
    plan = models.CharField(max_length=16, choices=ZoomPlan.choices, default=ZoomPlan.BUSINESS)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    # When the directory's mirror last finished a complete pass over the account (None: never).
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.zoom_id})"


class ZoomConnection(models.Model):
    """One admin's OAuth grant on one Zoom account, with what Zoom told us about them there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_connections")
    account = models.ForeignKey(ZoomAccount, on_delete=models.PROTECT, related_name="connections")
    zoom_user_id = models.CharField(max_length=64)
    zoom_email = models.EmailField(max_length=254)
    zoom_display_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=64)
    # Fernet ciphertexts (crypto.py); read and write them through the methods below.
    access_token_encrypted = models.TextField(editable=False)
    refresh_token_encrypted = models.TextField(editable=False)
    access_expires_at = models.DateTimeField()
    scopes = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    # The last health check (accounts/tasks.py): when, and what Zoom said if it failed.
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "account"], name="zoomconnection_user_account_unique"),
            # A Zoom identity signs in as exactly one dashboard person.
            models.UniqueConstraint(fields=["account", "zoom_user_id"], name="zoomconnection_zoom_identity_unique"),
        ]
        ordering: ClassVar = ["account__name", "id"]

    def __str__(self) -> str:
        # Shown in the admin and in logs: never the tokens.
        return f"{self.zoom_email} on {self.account}"

    def __repr__(self) -> str:
        return f"<ZoomConnection {self.pk}: {self.zoom_email} on account {self.account_id} [{self.status}]>"

    @property
    def is_active(self) -> bool:
        """The tokens work as far as we know (not refused, not revoked)."""
        return self.status == ConnectionStatus.ACTIVE

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
