"""The sandbox's data: Zoom accounts, their users and groups, OAuth apps and tokens.

Everything Zoom would store lives here, in the database, so a sandbox survives restarts and
several sandbox accounts can coexist. Each account carries the knobs that make it behave like a
given Zoom plan, or like a misbehaving Zoom (latency, 5xx, timeouts), and the settings for the
behaviours the reference marks UNCONFIRMED (defaults = the reference's defaults).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import ClassVar

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def zoom_id() -> str:
    """A Zoom-shaped id: 22 characters of base64url (like `zJKyaiAyTNC-MWjiWC18KQ`)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def token_digest(raw: str) -> str:
    """Tokens are stored as SHA-256 digests; the raw value exists only in the answer."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    BUSINESS = "business", "Business+"


class SandboxAccount(models.Model):
    """A Zoom account of the sandbox, with the knobs that shape its behaviour."""

    class ShapeChoice(models.TextChoices):
        OBJECT = "object", "single object (as Zoom's Get example)"
        ARRAY = "array", "array (as Zoom's Put/Patch examples)"

    zoom_id = models.CharField(max_length=64, unique=True, default=zoom_id)
    name = models.CharField(max_length=200)
    vanity_domain = models.CharField(max_length=200, help_text="Email domain of seeded users.")
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.BUSINESS)

    # Rate limits of the plan (off only for tests and scripts that are not about them).
    rate_limits_enabled = models.BooleanField(default=True)

    # Faults and latency.
    latency_mean_ms = models.PositiveIntegerField(default=0)
    latency_jitter_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0, help_text="Share of API requests answered 5xx (0..1).")
    timeout_rate = models.FloatField(default=0.0, help_text="Share of API requests that hang, then 504 (0..1).")
    timeout_hang_seconds = models.FloatField(default=30.0, help_text="How long a 'timed out' request hangs.")
    sso_enabled = models.BooleanField(default=True, help_text="Off: every SCIM call answers 400 (SSO not enabled).")

    # Paging (UNCONFIRMED in the reference: default 10, cap 100).
    page_default_count = models.PositiveIntegerField(default=10)
    page_max_count = models.PositiveIntegerField(default=100)

    # UNCONFIRMED behaviours, each defaulting to the reference's suggestion.
    roles_groups_shape = models.CharField(
        max_length=8,
        choices=ShapeChoice.choices,
        default=ShapeChoice.OBJECT,
        help_text="How Get a user renders `roles` and `groups` (Zoom's docs show both).",
    )
    group_get_includes_members = models.BooleanField(
        default=True, help_text="Get a group returns `members` (undocumented by Zoom)."
    )
    pending_username_filter_400 = models.BooleanField(
        default=True, help_text="`userName eq` on a pending user answers 400 'not exist or not belong'."
    )
    filter_case_insensitive = models.BooleanField(default=True, help_text="`eq` filters ignore case.")
    deactivate_privileged_status = models.PositiveSmallIntegerField(
        default=400, help_text="Status when deactivating an Owner/Admin (refused)."
    )
    delete_user_mode = models.CharField(
        max_length=16,
        choices=[("delete", "delete permanently"), ("disassociate", "remove from account, keep Zoom user")],
        default="delete",
    )
    duplicate_group_name_409 = models.BooleanField(default=True, help_text="Creating a group with a used name: 409.")
    put_ignores_identity_fields = models.BooleanField(
        default=False, help_text="PUT silently ignores userName/displayName/loginType (early forum report)."
    )
    legacy_scim_one_rps = models.BooleanField(
        default=False, help_text="Old docs: 1 request/second per SCIM endpoint, on top of the labels."
    )
    ratelimit_headers_quirk = models.BooleanField(
        default=False, help_text="Omit X-RateLimit-Type and Retry-After on 429 (reported in the wild)."
    )
    user_reauth_revokes_previous = models.BooleanField(
        default=True, help_text="A new authorization for the same app and user revokes its older tokens."
    )
    s2s_new_token_revokes_previous = models.BooleanField(
        default=False, help_text="A new account-credentials token revokes the previous one (historic)."
    )
    refresh_token_lifetime_days = models.PositiveIntegerField(default=90)
    refresh_reuse_tolerance = models.PositiveSmallIntegerField(
        default=0, help_text="Times a rotated refresh token may still be used (v7 tokens had some)."
    )
    access_token_lifetime_seconds = models.PositiveIntegerField(default=3600)

    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.zoom_id})"


class Role(models.TextChoices):
    OWNER = "Owner", "Owner"
    ADMIN = "Admin", "Admin"
    MEMBER = "Member", "Member"


class UserStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Deactivated"
    PENDING = "pending", "Pending (invited)"


class SandboxUser(models.Model):
    """A Zoom user of one sandbox account, with every SCIM attribute Zoom stores."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="users")
    zoom_id = models.CharField(max_length=64, unique=True, default=zoom_id)
    user_name = models.CharField(max_length=254)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=UserStatus.choices, default=UserStatus.ACTIVE)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    user_type = models.CharField(max_length=32, default="Basic")
    title = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=32, blank=True)
    location = models.CharField(max_length=200, blank=True)
    phone_numbers = models.JSONField(default=list, blank=True)
    # Enterprise extension.
    department = models.CharField(max_length=200, blank=True)
    organization = models.CharField(max_length=200, blank=True)
    cost_center = models.CharField(max_length=200, blank=True)
    employee_number = models.CharField(max_length=100, blank=True)
    manager = models.CharField(max_length=254, blank=True, help_text="Zoom keeps the manager as an email.")
    # ZoomUser extension: loginType.
    login_work_email = models.BooleanField(default=False)
    login_sso = models.BooleanField(default=True)
    # zoom:1.0:User extension (license flags, pronouns, personalLinkName, custom attributes).
    zoom_extension = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_modified = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints: ClassVar = [
            # An email is one Zoom user, whatever its case, across all accounts.
            models.UniqueConstraint(Lower("user_name"), name="sandbox_user_name_ci_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return self.user_name

    @property
    def active(self) -> bool:
        return self.status == UserStatus.ACTIVE


class SandboxGroup(models.Model):
    """A Zoom user group (SCIM Group) of one sandbox account."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="groups")
    zoom_id = models.CharField(max_length=64, unique=True, default=zoom_id)
    display_name = models.CharField(max_length=200)
    email_alias = models.CharField(max_length=254, blank=True)
    is_default = models.BooleanField(default=False, help_text="The account's default group cannot be deleted.")
    members = models.ManyToManyField(SandboxUser, related_name="sandbox_groups", blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_modified = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return self.display_name


class OAuthApp(models.Model):
    """A Marketplace app registered with the sandbox: user-level (authorization code) or server-to-server."""

    class Kind(models.TextChoices):
        USER = "user", "User-managed (authorization code)"
        S2S = "s2s", "Server-to-Server (account credentials)"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.USER)
    client_id = models.CharField(max_length=64, unique=True)
    client_secret = models.CharField(max_length=128)
    # Server-to-server apps belong to one account; user apps may be authorized on any.
    account = models.ForeignKey(SandboxAccount, null=True, blank=True, on_delete=models.CASCADE)
    redirect_uris = models.TextField(blank=True, help_text="One per line; matched exactly.")
    scopes = models.CharField(max_length=500, default="scim2:admin user:read:user")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def redirect_uri_list(self) -> list[str]:
        return [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]


class AuthorizationCode(models.Model):
    """A one-time code from /oauth/authorize; lives five minutes."""

    code_digest = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(OAuthApp, on_delete=models.CASCADE)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    redirect_uri = models.CharField(max_length=1000)
    scopes = models.CharField(max_length=500)
    code_challenge = models.CharField(max_length=200, blank=True)
    code_challenge_method = models.CharField(max_length=8, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.user_id} via {self.app_id}"


class AccessToken(models.Model):
    """An issued bearer token (stored as a digest)."""

    token_digest = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(OAuthApp, on_delete=models.CASCADE)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE)
    # The authorizing user; for server-to-server tokens, the account owner.
    user = models.ForeignKey(SandboxUser, null=True, blank=True, on_delete=models.CASCADE)
    scopes = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # Never the token itself, nor its digest.
        return f"access token #{self.pk} of app {self.app_id}"


class RefreshToken(models.Model):
    """A refresh token; rotated on every use (the previous one stops working)."""

    token_digest = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(OAuthApp, on_delete=models.CASCADE)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    scopes = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)
    uses_after_rotation = models.PositiveSmallIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    access_token = models.ForeignKey(AccessToken, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"refresh token #{self.pk} of app {self.app_id}"
