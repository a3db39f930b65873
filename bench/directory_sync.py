"""Benchmark: a full directory sync of a 50,000-user account over real HTTP, bounded by the rate limit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/directory_sync.py --users 50000

What it does:

- the sandbox runs as its own server (gunicorn, `ZOOMADMIN_SERVE=sandbox`) on a SQLite file of its
  own, seeded with `--users` users and `--groups` groups, on Business limits (the sandbox enforces
  Zoom's per-second limits: 60 List users/List groups per second), with `latency_mean_ms=150`
  added to every request, and pages of at most 100 (`page_max_count`, the cap integrators use);
- the dashboard side runs in this process on a fresh PostgreSQL database beside the one
  `DATABASE_URL` names (dropped afterwards), with the shared limiter in Redis (`REDIS_URL`) at the
  configured `ZOOM_RATE_LIMIT_SHARE` (default 0.8: 48 Medium requests per second);
- it times `sync_execute` of a first, full sync (every row created), then a second one over the
  unchanged account, and counts the mirror rows the second run wrote twice: the run's own counters,
  and PostgreSQL's row counters (inserts, updates, deletes) of the directory tables.

`minimum_seconds` is what the rate limit alone allows: list pages ÷ (Medium budget per second x
share). The last line is JSON: seconds, minimum_seconds, ratio (target ≤ 1.25), and the second
run's seconds and rows written (target 0).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from _support import (
    dashboard_connection,
    dashboard_migrate,
    django_start,
    free_port,
    fresh_postgres,
    gunicorn_command,
    manage,
    postgres_url_required,
    sandbox_app_create,
    sandbox_env,
    sandbox_seed,
    sandbox_server,
)

ACCOUNT = "Sync Bench Corp"
DOMAIN = "syncbench.example.com"
DIRECTORY_TABLES = ("directory_directoryuser", "directory_directorygroup", "directory_directorymembership")


def prepare_sandbox(env: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    manage(env, "migrate", "-v0")
    started = time.perf_counter()
    sandbox_seed(env, "--plan", "business", users=args.users, groups=args.groups, account=ACCOUNT, domain=DOMAIN)
    print(f"sandbox: seeded {args.users} users, {args.groups} groups in {time.perf_counter() - started:.1f} s")
    manage(
        env,
        "sandbox_account",
        "set",
        ACCOUNT,
        "rate_limits_enabled=true",
        f"latency_mean_ms={args.latency_ms}",
        "latency_jitter_ms=0",
        "page_max_count=100",
    )
    return sandbox_app_create(env, ACCOUNT)


def table_writes(cursor: object) -> int:
    """Rows inserted, updated and deleted in the directory tables so far (PostgreSQL's counters)."""
    cursor.execute("SELECT pg_stat_force_next_flush()")  # type: ignore[attr-defined]
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables WHERE relname = ANY(%s)",
        [list(DIRECTORY_TABLES)],
    )
    return int(cursor.fetchone()[0])  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--sandbox-workers", type=int, default=3)
    parser.add_argument("--sandbox-threads", type=int, default=16)
    args = parser.parse_args()
    postgres_url = postgres_url_required()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL must name the Redis database the shared limiter uses.")

    with (
        tempfile.TemporaryDirectory(prefix="bench-dsync-") as tmp,
        fresh_postgres(postgres_url, prefix="bench_dsync") as url,
    ):
        state = Path(tmp)
        env = sandbox_env(f"sqlite:///{state}/sandbox.sqlite3", state)
        credentials = prepare_sandbox(env, args)
        dashboard_migrate(url, state)

        # Several workers: the sandbox's latency is a sleep that holds a thread.
        port = free_port()
        command = gunicorn_command(port, "--workers", str(args.sandbox_workers), "--threads", str(args.sandbox_threads))
        with sandbox_server(command, port=port, env=env, log_path=state / "sandbox.log") as server:
            django_start(
                {
                    "DATABASE_URL": url,
                    "ZOOMADMIN_VAR_DIR": str(state),
                    "ZOOM_API_BASE_URL": server.base,
                    "ZOOM_OAUTH_BASE_URL": server.base,
                }
            )
            result = run_syncs(server.base, credentials, args)
    print(json.dumps(result))


def run_syncs(base: str, credentials: dict[str, str], args: argparse.Namespace) -> dict[str, object]:
    from django.conf import settings
    from django.db import connection

    from zoomadmin.celery import app
    from zoomadmin.directory.models import DirectoryMembership, DirectoryUser, SyncRun, SyncStatus
    from zoomadmin.directory.sync import PAGE_SIZE, sync_execute
    from zoomadmin.zoom.plans import MEDIUM, plan_budget

    # The sync enqueues enrichment when it succeeds; no worker runs here, so keep it off the broker.
    app.conf.broker_url = "memory://"
    account = dashboard_connection(base, credentials, account=ACCOUNT, domain=DOMAIN).account

    budget = plan_budget(plan="business", label=MEDIUM, share=settings.ZOOM_RATE_LIMIT_SHARE)
    pages = math.ceil(args.users / PAGE_SIZE) + math.ceil(args.groups / PAGE_SIZE)
    minimum = pages / (budget.per_window / budget.window)

    def timed(generation: int) -> tuple[float, SyncRun]:
        run = SyncRun.objects.create(account=account, generation=generation)
        started = time.perf_counter()
        finished = sync_execute(run_id=run.pk)
        seconds = time.perf_counter() - started
        if finished.status != SyncStatus.SUCCEEDED:
            sys.exit(f"sync {generation} failed: {finished.error}")
        return seconds, finished

    first_seconds, first = timed(1)
    users = DirectoryUser.objects.filter(account=account).count()
    memberships = DirectoryMembership.objects.filter(account=account).count()
    if users != args.users:
        sys.exit(f"the mirror holds {users} users, not {args.users}")
    print(
        f"first sync: {first_seconds:.2f} s for {pages} list pages and {first.pages_total - pages} Get group calls; "
        f"{users} users, {first.groups_seen} groups, {memberships} memberships written "
        f"(rate-limit minimum {minimum:.2f} s at {budget.per_window}/s)"
    )
    with connection.cursor() as cursor:
        before = table_writes(cursor)
        second_seconds, second = timed(2)
        written = table_writes(cursor) - before
    print(
        f"second sync (no changes): {second_seconds:.2f} s; rows written by its counters {second.rows_written}, "
        f"by PostgreSQL's table statistics {written}"
    )
    return {
        "users": args.users,
        "groups": args.groups,
        "pages": pages,
        "seconds": round(first_seconds, 2),
        "minimum_seconds": round(minimum, 2),
        "ratio": round(first_seconds / minimum, 3),
        "second_seconds": round(second_seconds, 2),
        "second_ratio": round(second_seconds / minimum, 3),
        "second_rows_written": max(written, second.rows_written),
    }


if __name__ == "__main__":
    main()
