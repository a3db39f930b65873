"""Zoom's OAuth server paths (`https://zoom.us/oauth/...`), served by the sandbox."""

from __future__ import annotations

from django.urls import URLPattern, path

from zoomadmin.sandbox import oauth_views

urlpatterns: list[URLPattern] = [
    path("authorize", oauth_views.authorize, name="oauth-authorize"),
    path("token", oauth_views.token, name="oauth-token"),
    path("revoke", oauth_views.revoke, name="oauth-revoke"),
]
