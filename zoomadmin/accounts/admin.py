"""Django admin for Zoom connections: tokens are neither shown nor editable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from zoomadmin.accounts.models import ZoomConnection

# ModelAdmin is generic only in the type stubs.
if TYPE_CHECKING:
    _ConnectionAdminBase = admin.ModelAdmin[ZoomConnection]
else:
    _ConnectionAdminBase = admin.ModelAdmin


@admin.register(ZoomConnection)
class ZoomConnectionAdmin(_ConnectionAdminBase):
    list_display = ("zoom_email", "zoom_account_name", "zoom_account_id", "role", "status", "user", "updated")
    list_filter = ("status", "role")
    search_fields = ("zoom_email", "zoom_account_name", "zoom_account_id")
    # The encrypted token fields are left out entirely (exclude), not merely read-only.
    exclude = ("access_token_encrypted", "refresh_token_encrypted")
    readonly_fields = ("user", "zoom_account_id", "zoom_user_id", "access_expires_at", "scopes", "created", "updated")
