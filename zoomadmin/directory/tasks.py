"""Celery adapters of the directory services: look up, call the service, nothing else."""

from __future__ import annotations

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.celery import app
from zoomadmin.directory import enrich, sync
from zoomadmin.tasks import ZoomTask, sweeper


# Retry policy: none. The pass records every failure on its SyncRun (the admin reads why) and the
# next periodic or requested sync starts a new generation; rate-limit waits happen inside the pass
# (sync.py explains why). Acks early: a redelivered message would find its run no longer queued.
# A sync of 250,000 users takes under two minutes at Business limits; the limits leave room for
# slower plans (Pro: 20 list pages/s) without letting a stuck pass hold a worker for long.
@app.task(base=ZoomTask, name="zoomadmin.directory.tasks.directory_sync", soft_time_limit=1200, time_limit=1260)
def directory_sync(run_id: int) -> None:
    sync.sync_execute(run_id=run_id)


# Retry policy: none; a batch that stops for the rate limit enqueues the next one itself with the
# limiter's wait as countdown (it never sleeps on the shared budget). Acks early: a lost batch is
# replaced by the next sync's or beat's request; running one twice would only fetch users twice.
@app.task(base=ZoomTask, name="zoomadmin.directory.tasks.directory_enrich", soft_time_limit=90, time_limit=120)
def directory_enrich(account_id: int) -> None:
    account = ZoomAccount.objects.filter(pk=account_id).first()
    if account is None:
        return
    result = enrich.enrich_batch(account=account)
    if result.remaining and not result.locked_out:
        directory_enrich.apply_async((account_id,), countdown=result.retry_after or 0)


# Retry policy: none, it only reads and enqueues; beat runs it again in a minute. Acks early.
@app.task(name="zoomadmin.directory.tasks.directory_sync_periodic", soft_time_limit=50, time_limit=60)
def directory_sync_periodic() -> None:
    sync.syncs_periodic()
    for account in ZoomAccount.objects.filter(directory_users__enrichment_due=True).distinct():
        enrich.enrichment_request(account=account)


@sweeper("directory-sync")
def directory_sync_sweep() -> int:
    return sync.syncs_stalled_resume()
