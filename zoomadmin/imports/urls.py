"""Bulk-change pages of one Zoom account, under `/a/<zoom account id>/imports/` (all behind `account_view`)."""

from __future__ import annotations

from django.urls import path

from zoomadmin.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new", views.upload, name="upload"),
    path("selection", views.selection_action, name="selection"),
    path("<int:change_set_id>/columns", views.remap, name="remap"),
    path("<int:change_set_id>/", views.job_detail, name="detail"),
    path("<int:change_set_id>/start", views.job_start_view, name="start"),
    path("<int:change_set_id>/pause", views.job_pause_view, name="pause"),
    path("<int:change_set_id>/resume", views.job_resume_view, name="resume"),
    path("<int:change_set_id>/cancel", views.job_cancel_view, name="cancel"),
    path("<int:change_set_id>/retry", views.job_retry_view, name="retry"),
    path("<int:change_set_id>/results.csv", views.job_results, name="results"),
]
