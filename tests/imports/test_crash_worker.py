"""Crash safety with real processes: `kill -9` a Celery worker mid-job, restart Redis mid-job.

A real worker (`celery worker`; the test sends the sweep every 2 s, as beat does every minute) works
on a job against the sandbox (in-process transport, in the test database); the test kills it while
rows are in flight and starts another, or kills Redis (no persistence: every queued task is lost)
and starts it again. Either
way the job must end with every row applied exactly once: one Zoom user per row, no row lost.
The Redis here is our own `redis-server` on a free port, never the shared one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from tests.imports.support import change_set_of, create_specs
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.imports.models import ChangeSet, JobStatus, Outcome, RowState
from zoomadmin.imports.services import job_start
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]
ROOT = Path(__file__).resolve().parents[2]
ROWS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redis:
    """A throwaway redis-server without persistence: a restart loses everything queued."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(shutil.which("redis-server")), "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.tmp,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


@pytest.fixture
def worker_env(redis: Redis, tmp_path: Path) -> dict[str, str]:
    """The environment of a worker on the test database, our Redis and the in-process sandbox."""
    name = db.settings_dict["NAME"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
        "DATABASE_URL": f"postgres://{db.settings_dict['USER']}@{db.settings_dict['HOST']}:{db.settings_dict['PORT']}/{name}",
        "REDIS_URL": redis.url,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "ZOOMADMIN_SERVE": "dashboard",
        "ZOOMADMIN_SANDBOX_IN_PROCESS": "true",
        "ZOOM_HTTP_TRANSPORT": "zoomadmin.sandbox.transport.sandbox_transport",
        "ZOOM_API_BASE_URL": settings.ZOOM_API_BASE_URL,
        "ZOOM_OAUTH_BASE_URL": settings.ZOOM_OAUTH_BASE_URL,
        "ALLOWED_HOSTS": "sandbox.test,localhost,testserver",
        "IMPORTS_CONCURRENCY": "4",
        "IMPORTS_CHUNK_SECONDS": "2",
        "IMPORTS_LEASE_SECONDS": "3",
        "IMPORTS_STALL_SECONDS": "4",
        "ZOOMADMIN_VAR_DIR": str(tmp_path),
    }


def _celery(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    # A session of its own, so teardown can kill the process with any children it forked.
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "zoomadmin", *args, "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 the process and everything in its session (a prefork pool, a beat)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start a worker (one process, like a container of its own)."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(started)}.log"
        process = _celery(worker_env, log, "worker", "--pool=solo", "--without-mingle", "--without-gossip")
        started.append(process)
        return process

    yield start
    for process in started:
        _kill(process)


@pytest.fixture
def connection(stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser) -> ZoomConnection:
    return stored_connection(admin_a)


def _started_job(connection: ZoomConnection, account: SandboxAccount, domain: str) -> ChangeSet:
    # Slow enough that the job is mid-way when the test strikes.
    SandboxAccount.objects.filter(pk=account.pk).update(latency_mean_ms=120)
    change_set = change_set_of(connection, create_specs(domain, ROWS))
    job_start(change_set=change_set, connection=connection)
    # job_start queued its chunks on the suite's broker, not on this test's Redis: to the workers
    # here the job looks stalled from the start, and the sweeper (beat) sets it going.
    ChangeSet.objects.filter(pk=change_set.pk).update(progress_at=timezone.now() - timedelta(minutes=5))
    return change_set


def _wait_for(
    predicate: Callable[[], bool], *, limit: float, what: str, beat_env: dict[str, str] | None = None
) -> None:
    """Wait until `predicate()`; with `beat_env`, send the sweep every 2 s, as beat does every minute."""
    deadline = time.monotonic() + limit
    beat_at = 0.0
    while time.monotonic() < deadline:
        if predicate():
            return
        if beat_env is not None and time.monotonic() >= beat_at:
            subprocess.run(
                [sys.executable, "-m", "celery", "-A", "zoomadmin", "call", "zoomadmin.tasks.sweep"],
                cwd=ROOT,
                env=beat_env,
                capture_output=True,
                check=False,
            )
            beat_at = time.monotonic() + 2
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _done(change_set: ChangeSet) -> int:
    return change_set.rows.filter(state=RowState.DONE).count()


def _assert_exactly_once(change_set: ChangeSet, account: SandboxAccount, domain: str) -> None:
    change_set.refresh_from_db()
    assert change_set.status == JobStatus.FINISHED
    assert change_set.rows.filter(state=RowState.DONE, result=Outcome.CREATE).count() == ROWS
    emails = list(change_set.rows.values_list("email", flat=True))
    users = SandboxUser.objects.filter(account=account, user_name__startswith="new", user_name__endswith=f"@{domain}")
    assert users.count() == ROWS
    assert sorted(users.values_list("user_name", flat=True)) == sorted(emails)
    assert set(change_set.rows.values_list("zoom_id", flat=True)) == set(users.values_list("zoom_id", flat=True))


def test_a_worker_killed_mid_job_leaves_no_duplicate_and_no_lost_row(
    connection: ZoomConnection,
    account_a: SandboxAccount,
    redis: Redis,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    worker_env: dict[str, str],
) -> None:
    change_set = _started_job(connection, account_a, "acme.example.com")
    first = start_worker()
    _wait_for(lambda: _done(change_set) >= 8, limit=60, what="the first worker to apply rows", beat_env=worker_env)
    _kill(first)
    stranded = change_set.rows.filter(state=RowState.CLAIMED).count()
    assert _done(change_set) < ROWS, "the job finished before the kill: make the sandbox slower"

    start_worker()
    _wait_for(
        lambda: ChangeSet.objects.get(pk=change_set.pk).status == JobStatus.FINISHED,
        limit=120,
        what="the second worker to finish the job",
        beat_env=worker_env,
    )
    _assert_exactly_once(change_set, account_a, "acme.example.com")
    # The killed worker held rows in flight; they were taken over after their lease ran out.
    assert stranded > 0


def test_a_redis_restart_mid_job_loses_no_row(
    connection: ZoomConnection,
    account_a: SandboxAccount,
    redis: Redis,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    worker_env: dict[str, str],
) -> None:
    change_set = _started_job(connection, account_a, "acme.example.com")
    start_worker()
    _wait_for(lambda: _done(change_set) >= 8, limit=60, what="the worker to apply rows", beat_env=worker_env)
    redis.kill()
    time.sleep(1)
    redis.start()
    assert _done(change_set) < ROWS, "the job finished before Redis went away: make the sandbox slower"
    _wait_for(
        lambda: ChangeSet.objects.get(pk=change_set.pk).status == JobStatus.FINISHED,
        limit=120,
        what="the job to finish after the Redis restart",
        beat_env=worker_env,
    )
    _assert_exactly_once(change_set, account_a, "acme.example.com")
