"""Sign-in, sign-out and the person's Zoom connections (not tied to one account)."""

from __future__ import annotations

from django.urls import path

from zoomadmin.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login_view, name="login"),
    path("accounts/callback", views.callback, name="callback"),
    path("accounts/", views.connection_list, name="connections"),
    path("link", views.link, name="link"),
    path("switch", views.switch, name="switch"),
    path("logout", views.logout_view, name="logout"),
    path("connections/<int:pk>/disconnect", views.disconnect, name="disconnect"),
]
