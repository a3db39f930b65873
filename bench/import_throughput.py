"""Benchmark: a bulk job of N user creates over real HTTP, against the rate limit's floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/import_throughput.py --rows 10000

What it sets up:

- the sandbox as its own server (gunicorn, `ZOOMADMIN_SERVE=sandbox`) on a fresh PostgreSQL
  database of its own (`SANDBOX_DATABASE_URL`), one Business account with its rate limits on
  (Create user is Light: 80 requests per second) and `latency_mean_ms=150` added to every request;
- the dashboard side on another fresh PostgreSQL database beside the one `DATABASE_URL` names
  (both dropped afterwards), the shared limiter and the broker in `REDIS_URL`, limiter share 100 %
  (`ZOOM_RATE_LIMIT_SHARE=1.0`);
- two Celery worker processes (`--pool=solo`, queues `zoom` and `default`), each working a chunk
  with `IMPORTS_CONCURRENCY` requests in flight.

What it measures:

1. a change set of `--rows` creates built with `changeset_create` (as the plan would), started with
   `job_start`, timed from the start until the job is finished (`seconds`). `minimum_seconds` is
   rows ÷ the Light limit per second on Business (what Zoom allows at best); `ratio` = seconds ÷
   minimum (target ≤ 1.10). While it runs it samples the rows in flight (claimed), the load
   average, and the CPU busy share; afterwards it reads the sandbox's access log for the requests
   Zoom answered and the 429s it sent, and the sandbox's database for duplicate users;
2. a plain sequential client (`zoom_client`, one create after another) on `--sequential-rows`
   rows, for comparison (`sequential_rows_per_second`).

The last line is JSON: seconds, minimum_seconds, ratio, failed_rows (must be 0), duplicates (must
be 0), sequential_rows_per_second, and the evidence (steady rate, in flight, CPU, 429s).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING

import psycopg
from _support import (
    ROOT,
    dashboard_connection,
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

if TYPE_CHECKING:
    from zoomadmin.accounts.models import ZoomConnection

ACCOUNT = "Import Bench Corp"
DOMAIN = "importbench.example.com"


@contextmanager
def celery_workers(env: dict[str, str], state: Path, count: int) -> Iterator[list[int]]:
    """`count` worker processes (each its own process group), ready before the block starts."""
    logs = [state / f"worker-{i}.log" for i in range(count)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "zoomadmin",
                "worker",
                "--pool=solo",
                "-Q",
                "zoom,default",
                "-n",
                f"bench{i}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i, log in enumerate(logs)
    ]
    try:
        deadline = time.monotonic() + 90
        while not all("ready." in log.read_text(errors="replace") for log in logs):
            if any(proc.poll() is not None for proc in procs) or time.monotonic() > deadline:
                sys.exit(f"a Celery worker did not start; see {state}")
            time.sleep(0.3)
        yield [proc.pid for proc in procs]
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def prepare_sandbox(env: dict[str, str], latency_ms: int, *, limits: bool) -> dict[str, str]:
    manage(env, "migrate", "-v0")
    sandbox_seed(env, users=50, groups=2, account=ACCOUNT, domain=DOMAIN)
    manage(env, "sandbox_account", "set", ACCOUNT, "plan=business", f"rate_limits_enabled={str(limits).lower()}")
    manage(env, "sandbox_account", "set", ACCOUNT, f"latency_mean_ms={latency_ms}", "latency_jitter_ms=0")
    return sandbox_app_create(env, ACCOUNT)


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (gunicorn's master and its workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            for child in children.read_text().split():
                found += _tree(int(child))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes of `pids` and their descendants have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for root in pids:
        for pid in _tree(root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Sampler:
    """Every half second: rows in flight (claimed), the limiter's Light state, load average, CPU busy share.

    The limiter's `allowed` is the budget per window now: below 80 while it recovers from a 429.
    """

    def __init__(self, change_set_id: int, account_id: str) -> None:
        self.change_set_id = change_set_id
        self.account_id = account_id
        self.in_flight: list[int] = []
        self.allowed: list[int] = []
        self.in_window: list[int] = []
        self.load: list[float] = []
        self.cpu_busy: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def cpu() -> tuple[int, int]:
        """Busy and total jiffies of the whole machine so far (/proc/stat)."""
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def _run(self) -> None:
        from django.db import connections

        from zoomadmin.imports.models import ChangeRow, RowState
        from zoomadmin.zoom.plans import LIGHT
        from zoomadmin.zoom.ratelimit import default_limiter

        limiter = default_limiter()
        busy0, total0 = self.cpu()
        try:
            while not self._stop.wait(0.5):
                rows = ChangeRow.objects.filter(change_set_id=self.change_set_id, state=RowState.CLAIMED)
                self.in_flight.append(rows.count())
                light = next(u for u in limiter.usage(account_id=self.account_id, plan="business") if u.label == LIGHT)
                self.allowed.append(light.allowed if light.blocked_for <= 0 else 0)
                self.in_window.append(light.in_window)
                self.load.append(os.getloadavg()[0])
                busy, total = self.cpu()
                if total > total0:
                    self.cpu_busy.append((busy - busy0) / (total - total0))
                busy0, total0 = busy, total
        finally:
            connections.close_all()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sequential-rows", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="IMPORTS_CONCURRENCY (requests in flight a worker)")
    parser.add_argument("--chunk-seconds", type=float, default=30.0, help="IMPORTS_CHUNK_SECONDS")
    parser.add_argument(
        "--sandbox-limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the sandbox enforces Zoom's limits (--no-sandbox-limits: diagnosis only, our limiter alone paces)",
    )
    parser.add_argument("--sandbox-workers", type=int, default=2)
    parser.add_argument("--sandbox-threads", type=int, default=32)
    args = parser.parse_args()
    postgres_url = postgres_url_required()
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        sys.exit("REDIS_URL must name the Redis database of the limiter and the broker.")

    with (
        tempfile.TemporaryDirectory(prefix="bench-import-") as tmp,
        fresh_postgres(postgres_url, prefix="bench_import_sandbox") as sandbox_url,
        fresh_postgres(postgres_url, prefix="bench_import") as url,
    ):
        state = Path(tmp)
        env = sandbox_env(sandbox_url, state)
        credentials = prepare_sandbox(env, args.latency_ms, limits=args.sandbox_limits)
        # Several workers with an access log (the sandbox's latency is a sleep that holds a thread).
        port = free_port()
        command = gunicorn_command(
            port,
            "-c",
            "python:zoomadmin.gunicorn",
            "--workers",
            str(args.sandbox_workers),
            "--threads",
            str(args.sandbox_threads),
            "--access-logfile",
            str(state / "sandbox.access.log"),
        )
        with sandbox_server(command, port=port, env=env, log_path=state / "sandbox.log") as server:
            dashboard_env = {
                **os.environ,
                "DATABASE_URL": url,
                "REDIS_URL": redis_url,
                "ZOOMADMIN_SERVE": "dashboard",
                "ZOOMADMIN_SANDBOX_IN_PROCESS": "false",
                "ZOOMADMIN_VAR_DIR": str(state),
                "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
                "ZOOM_API_BASE_URL": server.base,
                "ZOOM_OAUTH_BASE_URL": server.base,
                "ZOOM_RATE_LIMIT_SHARE": "1.0",
                "IMPORTS_CONCURRENCY": str(args.concurrency),
                "IMPORTS_PARALLEL_CHUNKS": str(args.workers),
                "IMPORTS_CHUNK_SECONDS": str(args.chunk_seconds),
            }
            dashboard_env.pop("SANDBOX_DATABASE_URL", None)
            manage(dashboard_env, "migrate", "-v0")
            # Tasks left in this Redis database by an earlier, interrupted run would name other jobs.
            subprocess.run(
                [sys.executable, "-m", "celery", "-A", "zoomadmin", "purge", "-f", "-Q", "zoom,default"],
                cwd=ROOT,
                env=dashboard_env,
                capture_output=True,
                check=False,
            )
            django_start(dashboard_env)
            connection_row = dashboard_connection(server.base, credentials, account=ACCOUNT, domain=DOMAIN)
            with celery_workers(dashboard_env, state, args.workers) as worker_pids:
                result = run_job(connection_row, args, {"sandbox": [server.pid], "workers": worker_pids})
            result.update(sandbox_requests(state / "sandbox.access.log"))
            result["duplicates"] = duplicates(sandbox_url)
            result["sequential_rows_per_second"] = sequential(connection_row, args.sequential_rows)
            result["created_in_sandbox"] = created_in_sandbox(sandbox_url)
    print(json.dumps(result))


def run_job(
    connection_row: ZoomConnection, args: argparse.Namespace, processes: dict[str, list[int]]
) -> dict[str, object]:
    from django.conf import settings

    from zoomadmin.imports.models import Action, ChangeSet, JobStatus, Outcome, RowState, Source
    from zoomadmin.imports.services import RowSpec, changeset_create, job_start
    from zoomadmin.zoom.plans import BUSINESS, LIGHT, ZOOM_LIMITS

    specs = (
        RowSpec(
            line=i + 2,
            action=Action.CREATE,
            email=f"bulk{i}@{DOMAIN}",
            planned=Outcome.CREATE,
            after={"first_name": f"Bulk{i}", "last_name": "Person", "title": "Engineer"},
            cells=[f"bulk{i}@{DOMAIN}", f"Bulk{i}", "Person", "Engineer"],
        )
        for i in range(args.rows)
    )
    built = time.perf_counter()
    change_set = changeset_create(
        account=connection_row.account,
        connection=connection_row,
        source=Source.CSV,
        rows=specs,
        active_users=50,
        file_name="bench.csv",
        columns=["Email", "First Name", "Last Name", "Job Title"],
    )
    print(f"change set of {args.rows} creates built in {time.perf_counter() - built:.1f} s", flush=True)

    limit = ZOOM_LIMITS[BUSINESS][LIGHT]
    minimum = args.rows / (limit.per_window / limit.window)
    cpu_before = {name: cpu_seconds(pids) for name, pids in processes.items()}
    machine_before = Sampler.cpu()
    with Sampler(change_set.pk, connection_row.account.zoom_id) as sampler:
        started = time.perf_counter()
        job_start(change_set=change_set, connection=connection_row)
        last_report = started
        while True:
            status = ChangeSet.objects.filter(pk=change_set.pk).values_list("status", flat=True).get()
            if status != JobStatus.RUNNING:
                break
            if time.perf_counter() - last_report > 15:
                done = change_set.rows.filter(state__in=(RowState.DONE, RowState.FAILED)).count()
                print(f"  {time.perf_counter() - started:6.1f} s: {done} rows processed", flush=True)
                last_report = time.perf_counter()
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    cpu = {name: round(cpu_seconds(pids) - cpu_before[name], 1) for name, pids in processes.items()}
    machine_busy, machine_total = (after - before for after, before in zip(Sampler.cpu(), machine_before, strict=True))
    cores = os.cpu_count() or 1
    cpu["machine"] = round(machine_busy / machine_total * seconds * cores, 1)
    cpu["machine_available"] = round(seconds * cores, 1)
    print(f"CPU seconds during the job: {cpu}", flush=True)
    change_set.refresh_from_db()
    if change_set.status != JobStatus.FINISHED:
        sys.exit(f"the job ended {change_set.status}: {change_set.status_message}")
    rows = change_set.rows
    outcomes = Counter(rows.values_list("result", flat=True))
    failed = rows.filter(state=RowState.FAILED).count()
    # The steady rate: rows applied between the 10th and the 90th percentile of their finish times.
    times = sorted(at for at in rows.values_list("applied_at", flat=True) if at is not None)
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    steady = (len(times) * 8 // 10) / max((high - low).total_seconds(), 1e-6)
    assert change_set.started_at is not None
    in_flight = sorted(sampler.in_flight) or [0]
    # Samples where a 429's penalty held the limiter below the full budget (or blocked it).
    penalised = sum(allowed < limit.per_window for allowed in sampler.allowed) / max(len(sampler.allowed), 1)
    print(
        f"job: {seconds:.1f} s for {args.rows} rows ({args.rows / seconds:.1f} rows/s; steady {steady:.1f} rows/s); "
        f"first outcome {(times[0] - change_set.started_at).total_seconds():.2f} s after the start; "
        f"outcomes {dict(outcomes)}; in flight median {in_flight[len(in_flight) // 2]}, "
        f"max {in_flight[-1]}; load {max(sampler.load or [0]):.1f}; CPU busy {mean(sampler.cpu_busy or [0]):.0%}; "
        f"limiter below budget after a 429 in {penalised:.0%} of samples (mean allowed "
        f"{mean(sampler.allowed or [0]):.0f}/s, mean granted in window {mean(sampler.in_window or [0]):.0f})",
        flush=True,
    )
    return {
        "rows": args.rows,
        "seconds": round(seconds, 2),
        "minimum_seconds": round(minimum, 2),
        "ratio": round(seconds / minimum, 3),
        "failed_rows": failed,
        "created": outcomes.get(Outcome.CREATE, 0),
        "steady_rows_per_second": round(steady, 1),
        "in_flight_median": in_flight[len(in_flight) // 2],
        "cpu_busy_mean": round(mean(sampler.cpu_busy or [0]), 2),
        "limiter_penalised_share": round(penalised, 2),
        "limiter_allowed_mean": round(mean(sampler.allowed or [0]), 1),
        "load_max": round(max(sampler.load or [0]), 1),
        "workers": args.workers,
        "sandbox_limits": args.sandbox_limits,
        "concurrency": int(settings.IMPORTS_CONCURRENCY),
        "chunk_seconds": float(settings.IMPORTS_CHUNK_SECONDS),
        "cpu_seconds": cpu,
    }


_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) ')


def sandbox_requests(access_log: Path) -> dict[str, int]:
    """How many create requests the sandbox answered, and how many of them were 429s."""
    creates = refused = 0
    for line in access_log.read_text(errors="replace").splitlines():
        match = _ACCESS.search(line)
        if match and match["method"] == "POST" and match["path"].endswith("/scim2/Users"):
            creates += 1
            refused += match["status"] == "429"
    return {"create_requests": creates, "create_429s": refused}


def duplicates(sandbox_url: str) -> int:
    """Users of the account beyond one per email (case-insensitive): Zoom would hold them twice."""
    with psycopg.connect(sandbox_url) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM sandbox_sandboxuser "
            "GROUP BY account_id, lower(user_name) HAVING count(*) > 1) AS twice"
        ).fetchone()
    return int(row[0]) if row else 0


def created_in_sandbox(sandbox_url: str) -> int:
    """Users the job created in the sandbox (its emails start with `bulk`)."""
    with psycopg.connect(sandbox_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM sandbox_sandboxuser WHERE user_name LIKE %s", [f"bulk%@{DOMAIN}"]
        ).fetchone()
    return int(row[0]) if row else 0


def sequential(connection_row: ZoomConnection, rows: int) -> float:
    """Rows per second of a plain client creating users one after another (waiting for slots)."""
    from zoomadmin.accounts.clients import zoom_client
    from zoomadmin.zoom.models import user_build

    started = time.perf_counter()
    with zoom_client(account=connection_row.account, acting_as=connection_row, wait_for_slot=True) as client:
        for i in range(rows):
            user = user_build(email=f"seq{i}@{DOMAIN}", first_name=f"Seq{i}", last_name="Person")
            client.create_user(user)
    seconds = time.perf_counter() - started
    print(f"sequential client: {rows} creates in {seconds:.1f} s ({rows / seconds:.1f} rows/s)", flush=True)
    return round(rows / seconds, 2)


if __name__ == "__main__":
    main()
