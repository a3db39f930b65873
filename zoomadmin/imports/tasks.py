"""Celery adapters of the job engine: JSON-able ids in, one service call, nothing returned."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from zoomadmin.celery import app
from zoomadmin.imports import engine, services


# Retry policy: Celery never retries a chunk. The chunk itself retries rows (429/5xx with backoff,
# honouring Retry-After) and reschedules itself with that wait as countdown instead of sleeping;
# a chunk lost with its worker or with Redis is restarted by the sweeper (leases make that safe).
@shared_task(ignore_result=True, acks_late=True)
def job_run_chunk(change_set_id: int) -> None:
    """Work on a job for one chunk, then queue the next chunk if the job has work left."""
    result = engine.job_work(change_set_id)
    if result.again_in is not None:
        job_run_chunk.apply_async((change_set_id,), countdown=result.again_in)


# Retry policy: none needed; it runs again at the next beat.
@shared_task(ignore_result=True)
def jobs_sweep() -> None:
    """Restart stalled jobs and resume jobs whose admin signed in again (see services.jobs_sweep)."""
    services.jobs_sweep()


def sweep_interval() -> float:
    """Seconds between sweeps: often enough that a stall is noticed within about its threshold."""
    return max(2.0, float(settings.IMPORTS_STALL_SECONDS) / 4)


@app.on_after_finalize.connect
def _schedule_sweeper(sender: Any, **kwargs: Any) -> None:
    sender.add_periodic_task(sweep_interval(), jobs_sweep.s(), name="imports: resume stalled bulk jobs")
