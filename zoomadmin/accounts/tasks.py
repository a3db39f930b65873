"""Celery adapters of the accounts services: look up, call the service, nothing else."""

from __future__ import annotations

from zoomadmin.accounts import health
from zoomadmin.celery import app
from zoomadmin.tasks import ZoomTask


# Retry policy: ZoomTask's (RateLimited after the named wait, Unavailable with backoff; a refused
# sign-in is recorded on the connection and ends the task). acks_late: a check is a read (plus a
# single-flight token refresh), so running it twice after a lost worker is harmless.
@app.task(
    base=ZoomTask,
    name="zoomadmin.accounts.tasks.connection_check",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def connection_check(connection_id: int) -> None:
    health.connection_check(connection_id=connection_id)


# Retry policy: none, it only reads ids and enqueues; beat runs it again at the next interval.
# Acks early: run twice, it would check every connection twice.
@app.task(name="zoomadmin.accounts.tasks.connections_check", soft_time_limit=60, time_limit=90)
def connections_check() -> None:
    health.connections_check_all()
