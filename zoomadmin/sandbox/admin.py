"""Django admin for the sandbox: account knobs, users, groups, OAuth apps and issued tokens.

Secrets stay secret here too: client secrets are write-only (a blank field keeps the current one)
and token digests are never shown, in lists or forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from zoomadmin.sandbox import ratelimit
from zoomadmin.sandbox.knobs import knobs_check
from zoomadmin.sandbox.models import AccessToken, OAuthApp, RefreshToken, SandboxAccount, SandboxGroup, SandboxUser

# ModelAdmin and ModelForm are generic only in the type stubs.
if TYPE_CHECKING:
    _AccountAdminBase = admin.ModelAdmin[SandboxAccount]
    _UserAdminBase = admin.ModelAdmin[SandboxUser]
    _GroupAdminBase = admin.ModelAdmin[SandboxGroup]
    _AppAdminBase = admin.ModelAdmin[OAuthApp]
    _TokenAdminBase = admin.ModelAdmin[Any]
    _AccountFormBase = forms.ModelForm[SandboxAccount]
    _AppFormBase = forms.ModelForm[OAuthApp]
else:
    _AccountAdminBase = _UserAdminBase = _GroupAdminBase = _AppAdminBase = admin.ModelAdmin
    _TokenAdminBase = admin.ModelAdmin
    _AccountFormBase = _AppFormBase = forms.ModelForm


class SandboxAccountForm(_AccountFormBase):
    """The account's knobs, with the bounds the field types cannot express (rates are 0..1, ...)."""

    class Meta:
        model = SandboxAccount
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, problem in knobs_check(cleaned).items():
            if name not in self.errors:
                self.add_error(name, problem)
        return cleaned


@admin.register(SandboxAccount)
class SandboxAccountAdmin(_AccountAdminBase):
    form = SandboxAccountForm
    list_display = (
        "name",
        "zoom_id",
        "plan",
        "rate_limits_enabled",
        "legacy_scim_one_rps",
        "latency_mean_ms",
        "error_rate",
        "timeout_rate",
        "sso_enabled",
    )
    list_filter = ("plan", "rate_limits_enabled", "sso_enabled")
    search_fields = ("name", "zoom_id", "vanity_domain")
    readonly_fields = ("zoom_id", "created", "rate_limit_usage")
    fieldsets = (
        (None, {"fields": ("name", "zoom_id", "vanity_domain", "plan", "created")}),
        (
            "Rate limits",
            {"fields": ("rate_limits_enabled", "legacy_scim_one_rps", "ratelimit_headers_quirk", "rate_limit_usage")},
        ),
        (
            "Latency and faults",
            {
                "fields": (
                    ("latency_mean_ms", "latency_jitter_ms"),
                    ("error_rate", "timeout_rate", "timeout_hang_seconds"),
                    "sso_enabled",
                )
            },
        ),
        ("Paging", {"fields": (("page_default_count", "page_max_count"),)}),
        (
            "Behaviours Zoom does not document (defaults follow the reference)",
            {
                "fields": (
                    "roles_groups_shape",
                    "group_get_includes_members",
                    "pending_username_filter_400",
                    "filter_case_insensitive",
                    "deactivate_privileged_status",
                    "delete_user_mode",
                    "duplicate_group_name_409",
                    "put_ignores_identity_fields",
                )
            },
        ),
        (
            "OAuth tokens",
            {
                "fields": (
                    "user_reauth_revokes_previous",
                    "s2s_new_token_revokes_previous",
                    "access_token_lifetime_seconds",
                    "refresh_token_lifetime_days",
                    "refresh_reuse_tolerance",
                )
            },
        ),
    )

    @admin.display(description="Today's daily-limit usage")
    def rate_limit_usage(self, account: SandboxAccount) -> str:
        if account.pk is None:
            return "-"
        usage = ratelimit.daily_usage(account)
        if not usage:
            return "No daily caps on this plan."
        return ", ".join(f"{counter}: {used} of {cap}" for counter, (used, cap) in usage.items())


@admin.register(SandboxUser)
class SandboxUserAdmin(_UserAdminBase):
    list_display = ("user_name", "display_name", "account", "role", "status", "user_type", "department")
    list_filter = ("role", "status", "user_type", "account")
    search_fields = ("user_name", "display_name", "zoom_id", "department")
    list_select_related = ("account",)
    readonly_fields = ("zoom_id", "created", "last_modified", "version")
    list_per_page = 50


@admin.register(SandboxGroup)
class SandboxGroupAdmin(_GroupAdminBase):
    list_display = ("display_name", "account", "is_default", "member_count")
    list_filter = ("is_default", "account")
    search_fields = ("display_name", "zoom_id", "email_alias")
    list_select_related = ("account",)
    readonly_fields = ("zoom_id", "created", "last_modified", "version")
    # Accounts hold thousands of users: a search box, not a select of every user.
    autocomplete_fields = ("members",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SandboxGroup]:
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, group: SandboxGroup) -> int:
        return int(getattr(group, "member_total", 0))


class OAuthAppForm(_AppFormBase):
    """An app's settings; the client secret can be set but is never sent back to the browser."""

    new_client_secret = forms.CharField(
        label="Client secret",
        required=False,
        strip=True,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current secret.",
    )

    class Meta:
        model = OAuthApp
        exclude = ("client_secret",)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and not cleaned.get("new_client_secret"):
            self.add_error("new_client_secret", "A new app needs a client secret.")
        return cleaned

    def save(self, commit: bool = True) -> OAuthApp:
        secret = self.cleaned_data.get("new_client_secret")
        if secret:
            self.instance.client_secret = secret
        return super().save(commit=commit)


@admin.register(OAuthApp)
class OAuthAppAdmin(_AppAdminBase):
    form = OAuthAppForm
    list_display = ("name", "kind", "client_id", "account", "scopes", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "client_id")
    list_select_related = ("account",)
    readonly_fields = ("created",)


class _TokenAdmin(_TokenAdminBase):
    """Issued tokens: looked at and revoked, never created or edited here; digests stay hidden."""

    list_display: tuple[str, ...] = ("id", "app", "account", "user", "scopes", "expires_at", "revoked_at", "created")
    list_filter = ("app",)
    list_select_related = ("app", "account", "user")
    search_fields = ("user__user_name", "account__name")
    exclude = ("token_digest",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(AccessToken)
class AccessTokenAdmin(_TokenAdmin):
    pass


@admin.register(RefreshToken)
class RefreshTokenAdmin(_TokenAdmin):
    list_display = ("id", "app", "account", "user", "scopes", "expires_at", "rotated_at", "revoked_at", "created")
