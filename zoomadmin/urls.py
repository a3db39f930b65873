"""The dashboard's URLs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from zoomadmin import health

urlpatterns = [
    path("", include("zoomadmin.accounts.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
