"""The dashboard's URLs.

Pages of one Zoom account live under `a/<zoom_account_id>/` (ACCOUNT_PREFIX); each app includes its
own patterns there, and every view behind them is wrapped in `accounts.access.account_view`.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from zoomadmin import health
from zoomadmin.favicon import favicon_redirect

ACCOUNT_PREFIX = "a/<str:zoom_account_id>/"

urlpatterns = [
    path("", include("zoomadmin.accounts.urls")),
    path(ACCOUNT_PREFIX, include("zoomadmin.accounts.account_urls")),
    path(ACCOUNT_PREFIX + "imports/", include("zoomadmin.imports.urls")),
    path(ACCOUNT_PREFIX, include("zoomadmin.directory.urls")),
    path(ACCOUNT_PREFIX + "audit/", include("zoomadmin.audit.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", favicon_redirect("img/favicon.ico")),
    path("admin/", admin.site.urls),
]
