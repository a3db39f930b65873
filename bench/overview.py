"""Benchmark: the account overview page on a big mirror (every aggregate the landing page shows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/overview.py --users 50000

What it does:

- creates a fresh PostgreSQL database beside the one `DATABASE_URL` names (dropped afterwards) and
  migrates it;
- fills two accounts' mirrors directly with bulk inserts (as `bench/directory_search.py` does:
  `--users` users each, 70 % of them enriched, `--groups` groups with memberships), gives the
  enriched users license flags, and writes `--events` audit events and 50 bulk jobs for the
  measured account; then `ANALYZE`;
- requests `/a/<id>/` through the Django test client signed in as an admin of the account (the
  whole page: middleware, session, the account check, the aggregates, the rate limiter's Redis
  read and the template), `--requests` times after `--warmup` untimed ones.

The last line is JSON: users, requests, queries (per page), p50_ms, p95_ms, max_ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _support import admin_client, dashboard_migrate, django_start, fresh_postgres, postgres_url_required
from directory_search import django_now, fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    postgres_url = postgres_url_required()

    with (
        tempfile.TemporaryDirectory(prefix="bench-overview-") as tmp,
        fresh_postgres(postgres_url, prefix="bench_overview") as url,
    ):
        dashboard_migrate(url, tmp)
        django_start({"DATABASE_URL": url, "ZOOMADMIN_VAR_DIR": tmp})
        result = run(args, Path(tmp))
    print(json.dumps(result))


def run(args: argparse.Namespace, state: Path) -> dict[str, object]:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zoomadmin.accounts.models import ZoomAccount
    from zoomadmin.audit.models import AuditAction, AuditEvent, AuditResult, AuditTarget
    from zoomadmin.imports.models import ChangeSet

    settings.ALLOWED_HOSTS = ["testserver"]
    # The full page links static files; without collectstatic's manifest, plain static URLs do.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    rng = random.Random(args.seed)
    started = time.monotonic()
    account = fill("BENCHACCT1", "Overview Bench Corp", args, rng)
    fill("BENCHACCT2", "Other Corp", args, rng)
    assert isinstance(account, ZoomAccount)
    with connection.cursor() as cursor:
        # License flags on the enriched users, varied by row.
        cursor.execute(
            """
            UPDATE directory_directoryuser SET licenses = jsonb_build_object(
                'zoomWhiteboard', id % 2 = 0, 'zoomHuddles', id % 5 = 0, 'zoomIQ', id % 7 = 0,
                'zoomOneBizPlus', CASE WHEN id % 3 = 0 THEN 'Zoom One Business Plus' ELSE '' END)
            WHERE enriched_at IS NOT NULL
            """
        )
    ZoomAccount.objects.filter(pk=account.pk).update(last_synced_at=django_now())
    account.refresh_from_db()
    actions = list(AuditAction)
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                account=account,
                account_zoom_id=account.zoom_id,
                created=django_now() - timedelta(seconds=n),
                zoom_user_id="BENCHACCT1-u0000000",
                zoom_email="admin@bench",
                action=actions[n % len(actions)],
                target_type=AuditTarget.USER,
                target_zoom_id=f"BENCHACCT1-u{n % args.users:07d}",
                target_label=f"user{n}@bench.example.com",
                changes={"title": ["A", "B"]},
                result=AuditResult.SUCCESS if n % 20 else AuditResult.FAILURE,
            )
            for n in range(args.events)
        ),
        batch_size=5000,
    )
    ChangeSet.objects.bulk_create(ChangeSet(account=account, file_name=f"import-{n}.csv") for n in range(50))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {2 * args.users} users in {time.monotonic() - started:.1f} s", file=sys.stderr)

    client = admin_client(account)
    url = f"/a/{account.zoom_id}/"
    timings = []
    queries = 0
    for index in range(args.warmup + args.requests):
        with CaptureQueriesContext(connection) as captured:
            begin = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - begin) * 1000
        if response.status_code != 200:
            sys.exit(f"the overview answered {response.status_code}")
        if index >= args.warmup:
            timings.append(elapsed)
            queries = len(captured)
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
    for query in slowest:
        print(f"{float(query['time']) * 1000:7.1f} ms  {query['sql'][:160]}", file=sys.stderr)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    return {
        "users": args.users,
        "requests": len(timings),
        "queries": queries,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(timings[-1], 2),
    }


if __name__ == "__main__":
    main()
