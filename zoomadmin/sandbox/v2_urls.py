"""Zoom's REST API paths (`https://api.zoom.us/v2/...`) the sandbox serves."""

from __future__ import annotations

from django.urls import URLPattern, path

from zoomadmin.sandbox import oauth_views

urlpatterns: list[URLPattern] = [
    path("users/me", oauth_views.users_me, name="v2-users-me"),
]
