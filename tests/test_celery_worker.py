"""A real `celery -A zoomadmin worker` process runs the connection health check end to end.

The worker is a subprocess on the test's Redis database and on the test database pytest-django
created (the test's rows are committed: `transactional_db`). It installs the sandbox in-process
like the test process does (ZOOMADMIN_SANDBOX_IN_PROCESS is in the environment it inherits) and
reaches it through the in-process transport, so its Zoom is the same sandbox the test set up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from tests.accounts.conftest import rotated_refresh_tokens
from tests.personas import SANDBOX_HOST
from zoomadmin.accounts import tasks as account_tasks
from zoomadmin.accounts.models import ConnectionStatus, ZoomConnection
from zoomadmin.celery import app
from zoomadmin.sandbox.models import RefreshToken, SandboxUser

ROOT = Path(__file__).resolve().parent.parent
# Waiting for the worker is not timing: these bound how long a broken setup takes to fail.
READY_TIMEOUT = 60.0
DONE_TIMEOUT = 60.0

pytestmark = [pytest.mark.postgres]


def _database_url() -> str:
    """The URL of the test database pytest-django created (test_<name>), for another process."""
    params = db_connection.settings_dict
    user = quote(params["USER"] or "")
    password = f":{quote(params['PASSWORD'])}" if params["PASSWORD"] else ""
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"postgres://{user}{password}@{params['HOST'] or '127.0.0.1'}{port}/{params['NAME']}"


def _purge_queues() -> None:
    """Empty both queues, so the worker only runs what this test sends."""
    with app.connection_for_write() as broker:
        channel = broker.default_channel
        for queue in settings.CELERY_TASK_QUEUES:
            channel.queue_purge(queue.name)


@pytest.fixture
def worker(transactional_db: None, zoom_settings: None, tmp_path: Path) -> Iterator[Path]:
    """A Celery worker subprocess on the test database; always stopped (process group killed)."""
    if db_connection.vendor != "postgresql":
        pytest.skip("the worker process needs the test database on PostgreSQL (SQLite's is in memory)")
    _purge_queues()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        # The test's Zoom settings (zoom_settings) as environment: the in-process sandbox.
        "ZOOM_HTTP_TRANSPORT": settings.ZOOM_HTTP_TRANSPORT,
        "ZOOM_OAUTH_BASE_URL": settings.ZOOM_OAUTH_BASE_URL,
        "ZOOM_API_BASE_URL": settings.ZOOM_API_BASE_URL,
        "ZOOM_CLIENT_ID": settings.ZOOM_CLIENT_ID,
        "ZOOM_CLIENT_SECRET": settings.ZOOM_CLIENT_SECRET,
        "ZOOM_OAUTH_SCOPES": settings.ZOOM_OAUTH_SCOPES,
        # The sandbox's middleware checks the Host header it is called with.
        "ALLOWED_HOSTS": f"{SANDBOX_HOST},localhost",
        "ZOOMADMIN_SANDBOX_IN_PROCESS": "true",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "zoomadmin", "worker",
        "-Q", "default,zoom", "--concurrency", "1", "--loglevel", "info",
        "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as output:
        # A session of its own: teardown signals the whole group (the main process and its child).
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for(lambda: "ready." in log.read_text() or process.poll() is not None, READY_TIMEOUT)
        assert process.poll() is None, log.read_text()[-3000:]
        yield log
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown, then SIGKILL to whatever of the group is left (the prefork child included)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {timeout:g} s")
        time.sleep(0.2)


def test_the_worker_checks_every_active_connection_with_zoom(
    worker: Path,
    stored_connection: Callable[..., ZoomConnection],
    admin_a: SandboxUser,
    admin_a2: SandboxUser,
    admin_b: SandboxUser,
) -> None:
    # Both access tokens have expired, so each check must refresh first.
    working = stored_connection(admin_a, expired=True)
    revoked = stored_connection(admin_b, expired=True)
    RefreshToken.objects.filter(user=admin_b).update(revoked_at=timezone.now() - timedelta(seconds=1))
    waiting = stored_connection(admin_a2)
    ZoomConnection.objects.filter(pk=waiting.pk).update(status=ConnectionStatus.NEEDS_REAUTH)

    # What beat sends: the fan-out, which enqueues one check per active connection on the zoom queue.
    account_tasks.connections_check.delay_on_commit()

    def checked() -> bool:
        return ZoomConnection.objects.filter(pk__in=[working.pk, revoked.pk], last_checked_at__isnull=True).count() == 0

    try:
        _wait_for(checked, DONE_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"the checks did not finish; worker log:\n{worker.read_text()[-3000:]}")

    working.refresh_from_db()
    assert working.status == ConnectionStatus.ACTIVE
    assert working.last_check_error == ""
    # The worker refreshed the token: Zoom rotated the refresh token, the new pair is stored.
    assert rotated_refresh_tokens(admin_a) == 1
    assert working.access_expires_at > timezone.now()

    revoked.refresh_from_db()
    assert revoked.status == ConnectionStatus.NEEDS_REAUTH
    assert revoked.last_check_error == "Zoom no longer accepts this sign-in. Sign in with Zoom again."

    waiting.refresh_from_db()
    assert waiting.last_checked_at is None
    log = worker.read_text()
    assert "zoomadmin.accounts.tasks.connection_check" in log
