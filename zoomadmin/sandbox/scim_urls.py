"""Zoom's four SCIM2 path templates (eleven operations, dispatched by method in `scim_views`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from zoomadmin.sandbox import scim_views

urlpatterns: list[URLPattern] = [
    path("scim2/Users", scim_views.users, name="scim_users"),
    path("scim2/Users/<str:user_id>", scim_views.user_detail, name="scim_user"),
    path("scim2/Groups", scim_views.groups, name="scim_groups"),
    path("scim2/Groups/<str:group_id>", scim_views.group_detail, name="scim_group"),
]
