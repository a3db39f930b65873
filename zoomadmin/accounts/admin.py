"""Django admin for Zoom accounts and connections: tokens are neither shown nor editable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection

# ModelAdmin is generic only in the type stubs.
if TYPE_CHECKING:
    _AccountAdminBase = admin.ModelAdmin[ZoomAccount]
    _ConnectionAdminBase = admin.ModelAdmin[ZoomConnection]
else:
    _AccountAdminBase = _ConnectionAdminBase = admin.ModelAdmin


@admin.register(ZoomAccount)
class ZoomAccountAdmin(_AccountAdminBase):
    list_display = ("name", "zoom_id", "plan", "last_synced_at", "updated")
    list_filter = ("plan",)
    search_fields = ("name", "zoom_id")
    readonly_fields = ("zoom_id", "created", "updated", "last_synced_at")


@admin.register(ZoomConnection)
class ZoomConnectionAdmin(_ConnectionAdminBase):
    list_display = ("zoom_email", "account", "role", "status", "user", "last_checked_at", "updated")
    list_filter = ("status", "role")
    search_fields = ("zoom_email", "account__name", "account__zoom_id")
    list_select_related = ("account", "user")
    # The encrypted token fields are left out entirely (exclude), not merely read-only.
    exclude = ("access_token_encrypted", "refresh_token_encrypted")
    readonly_fields = (
        "user",
        "account",
        "zoom_user_id",
        "access_expires_at",
        "scopes",
        "created",
        "updated",
        "last_checked_at",
        "last_check_error",
    )
