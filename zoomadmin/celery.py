"""The Celery app: Redis broker, settings from Django (CELERY_*), tasks found in each app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")

app = Celery("zoomadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
