"""Celery adapters of the job engine: JSON-able ids in, one service call (docs/celery.md)."""

from __future__ import annotations

from django.conf import settings

from zoomadmin.celery import app
from zoomadmin.imports import engine, plan, services
from zoomadmin.tasks import ZoomTask, sweeper

# A chunk works IMPORTS_CHUNK_SECONDS; the rest is room for its last requests to come back.
CHUNK_SOFT_TIME_LIMIT = int(settings.IMPORTS_CHUNK_SECONDS) + int(settings.ZOOM_HTTP_TIMEOUT) * 3 + 30


# Retry policy: ZoomTask's, but the chunk raises nothing transient: it retries rows itself (429 and
# 5xx with backoff honouring Retry-After, OutcomeUnknown after reconciling) and queues its own next
# chunk with the wait as countdown. acks_late: a chunk claims rows under leases and applies each
# once, so a redelivered chunk is safe; a chunk lost with its worker is restarted by the sweeper.
@app.task(
    base=ZoomTask,
    name="zoomadmin.imports.tasks.job_run_chunk",
    acks_late=True,
    soft_time_limit=CHUNK_SOFT_TIME_LIMIT,
    time_limit=CHUNK_SOFT_TIME_LIMIT + 30,
)
def job_run_chunk(change_set_id: int) -> None:
    """Work on a job for one chunk, then queue the next chunk if the job has work left."""
    result = engine.job_work(change_set_id)
    # Longer waits (a spent daily budget) are left to the sweeper: no countdown past the policy's cap.
    if result.again_in is not None and result.again_in <= settings.TASK_RETRY_MAX_COUNTDOWN:
        job_run_chunk.apply_async((change_set_id,), countdown=result.again_in)


@sweeper("imports")
def imports_sweep() -> int:
    """Restart stalled bulk jobs and resume those whose admin signed in again (services.jobs_sweep)."""
    return len(services.jobs_sweep())


@sweeper("imports_uploads")
def imports_uploads_sweep() -> int:
    """Remove uploaded CSV files kept for column mapping once their plan is gone, started or a day old."""
    return plan.uploads_sweep()
