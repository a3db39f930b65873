"""Zoom's URL layout, served by the sandbox: OAuth on /oauth/, the API on /v2/ and /scim2/."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from zoomadmin.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("oauth/", include("zoomadmin.sandbox.oauth_urls")),
    path("v2/", include("zoomadmin.sandbox.v2_urls")),
    path("", include("zoomadmin.sandbox.scim_urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", views.favicon),
    # Anything else is an endpoint Zoom does not have.
    re_path(r"^.*$", views.not_found),
]

# Errors raised past a view (DEBUG=false) keep Zoom's JSON shapes too.
handler404 = "zoomadmin.sandbox.views.not_found"
handler500 = "zoomadmin.sandbox.views.server_error"
