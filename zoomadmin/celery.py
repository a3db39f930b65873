"""The Celery app: Redis broker, settings from Django (CELERY_*), tasks found in each app.

The policy every task follows (enqueue on commit, queues, acks, time limits, retries, sweepers)
is in docs/celery.md; its shared pieces are in zoomadmin/tasks.py.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")

# Celery's Django fixup makes DjangoTask the base of every task, which gives each one
# delay_on_commit(): the message leaves only once the transaction that wrote its rows commits.
app = Celery("zoomadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
