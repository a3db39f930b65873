"""The directory pages, under `/a/<zoom account id>/` (users/ and groups/); every view is wrapped in `account_view`."""

from __future__ import annotations

from django.urls import path

from zoomadmin.directory import views

app_name = "directory"

urlpatterns = [
    path("users/", views.user_list, name="users"),
    path("users/export.csv", views.user_export, name="users_export"),
    path("users/new/", views.user_create, name="user_new"),
    path("users/sync/", views.sync, name="sync"),
    path("users/<str:zoom_user_id>/", views.user_detail, name="user"),
    path("users/<str:zoom_user_id>/edit/", views.user_edit, name="user_edit"),
    path("users/<str:zoom_user_id>/active/", views.user_set_active, name="user_active"),
    path("users/<str:zoom_user_id>/delete/", views.user_delete, name="user_delete"),
    path("groups/", views.group_list, name="groups"),
    path("groups/new/", views.group_create, name="group_new"),
    path("groups/<str:zoom_group_id>/", views.group_detail, name="group"),
    path("groups/<str:zoom_group_id>/rename/", views.group_rename, name="group_rename"),
    path("groups/<str:zoom_group_id>/delete/", views.group_delete, name="group_delete"),
    path("groups/<str:zoom_group_id>/members/add/", views.group_members_add, name="group_members_add"),
    path("groups/<str:zoom_group_id>/members/remove/", views.group_members_remove, name="group_members_remove"),
]
