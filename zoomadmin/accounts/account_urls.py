"""Pages of one Zoom account, under `/a/<zoom account id>/`; every view is wrapped in `account_view`."""

from __future__ import annotations

from django.urls import path

from zoomadmin.accounts import views

app_name = "account"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings", views.account_settings, name="settings"),
    path("sign-in-again", views.reauth, name="reauth"),
]
