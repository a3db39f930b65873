"""The audit log, under `/a/<zoom account id>/audit/`; every view is wrapped in `account_view`."""

from __future__ import annotations

from django.urls import path

from zoomadmin.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("export.csv", views.export, name="export"),
]
