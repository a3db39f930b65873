"""Benchmark: the sandbox's SCIM2 reads over real HTTP, on an account of 50,000 users.

    .venv/bin/python bench/sandbox_scim.py                     # SQLite (a temporary file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/sandbox_scim.py   # and PostgreSQL

For each database: migrate a fresh one (a temporary SQLite file; for PostgreSQL a new database
beside the one DATABASE_URL names, dropped afterwards), seed one account with `manage.py
sandbox_seed`, turn its rate limits off (this measures the sandbox, not Zoom's quotas; pass
`--rate-limits` to keep them), register a Server-to-Server app, start

    ZOOMADMIN_SERVE=sandbox .venv/bin/gunicorn zoomadmin.wsgi --bind 127.0.0.1:<port> --threads 8

and, from one sequential client, get a token (account_credentials grant) and measure:

- paging through every user with `count=100` (wall time, and per-page p50/p95/max);
- Get a user, `--samples` random users (p50/p95/max);
- List users with a `userName eq` filter, `--samples` random active users (p50/p95/max).

On PostgreSQL the fresh tables are ANALYZEd after the seed (as autovacuum soon would); without
that (`--no-analyze`) every page sorts the whole account on disk and paging takes about twice as long.

Every answer is checked (status, ids seen once, the filter finds exactly its user), so a fast
wrong answer cannot pass for a fast right one.
"""

from __future__ import annotations

import argparse
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx2
from _support import (
    free_port,
    fresh_postgres,
    gunicorn_command,
    manage,
    postgres_url,
    sandbox_app_create,
    sandbox_env,
    sandbox_seed,
    sandbox_server,
    sandbox_token,
)

ACCOUNT = "Bench Corp"


@dataclass
class Row:
    backend: str
    operation: str
    requests: int
    total_s: float
    latencies_ms: list[float]

    def cells(self) -> list[str]:
        ordered = sorted(self.latencies_ms)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        return [
            self.backend,
            self.operation,
            str(self.requests),
            f"{self.total_s:.2f}",
            f"{statistics.median(ordered):.1f}",
            f"{p95:.1f}",
            f"{ordered[-1]:.1f}",
        ]


def shown(command: list[str], env: Mapping[str, str]) -> str:
    """The sandbox server's command line as one would type it: its settings, then `.venv/bin/gunicorn …`."""
    return " ".join(
        [
            f"{name}={shlex.quote(env[name])}"
            for name in ("ZOOMADMIN_SERVE", "SANDBOX_DATABASE_URL", "ZOOMADMIN_VAR_DIR")
        ]
        + [shlex.quote(part) if part != command[0] else ".venv/bin/gunicorn" for part in command]
    )


def timed_get(
    client: httpx2.Client, path: str, params: dict[str, str | int] | None = None
) -> tuple[float, httpx2.Response]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"GET {path} {params} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response


def measure(backend: str, base: str, *, credentials: Mapping[str, str], samples: int) -> list[Row]:
    token = sandbox_token(base, credentials)
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/scim+json"}
    rows: list[Row] = []
    with httpx2.Client(base_url=base, headers=headers, timeout=60) as client:
        timed_get(client, "/scim2/Users", {"count": 1})  # warm the worker (imports, connection)

        # Page through everyone, as a sync job would.
        page_ms: list[float] = []
        ids: set[str] = set()
        active_names: list[str] = []
        start_index, total = 1, None
        started = time.perf_counter()
        while total is None or start_index <= total:
            elapsed, response = timed_get(client, "/scim2/Users", {"startIndex": start_index, "count": 100})
            body = response.json()
            total = body["totalResults"]
            page_ms.append(elapsed)
            for user in body["Resources"]:
                ids.add(user["id"])
                if user["active"]:
                    active_names.append(user["userName"])
            start_index += 100
        paging_s = time.perf_counter() - started
        if len(ids) != total:
            sys.exit(f"paging saw {len(ids)} distinct users of {total}")
        rows.append(Row(backend, f"page all {total} users, count=100", len(page_ms), paging_s, page_ms))

        rng = random.Random(42)
        get_ms: list[float] = []
        started = time.perf_counter()
        for user_id in rng.sample(sorted(ids), samples):
            elapsed, response = timed_get(client, f"/scim2/Users/{user_id}")
            if response.json()["id"] != user_id:
                sys.exit(f"Get a user {user_id} answered another user")
            get_ms.append(elapsed)
        rows.append(Row(backend, "Get a user", samples, time.perf_counter() - started, get_ms))

        filter_ms: list[float] = []
        started = time.perf_counter()
        for user_name in rng.sample(active_names, samples):
            elapsed, response = timed_get(client, "/scim2/Users", {"filter": f'userName eq "{user_name}"'})
            found = [user["userName"] for user in response.json()["Resources"]]
            if found != [user_name]:
                sys.exit(f"userName eq {user_name} found {found}")
            filter_ms.append(elapsed)
        rows.append(Row(backend, "List users, userName eq", samples, time.perf_counter() - started, filter_ms))
    return rows


def run(backend: str, database_url: str, state: Path, args: argparse.Namespace) -> tuple[list[Row], str]:
    env = sandbox_env(database_url, state)
    manage(env, "migrate", "-v0")
    started = time.perf_counter()
    sandbox_seed(env, users=args.users, groups=args.groups, account=ACCOUNT, domain="bench.example.com")
    print(f"{backend}: seeded {args.users} users in {time.perf_counter() - started:.1f} s", flush=True)
    if backend == "PostgreSQL" and not args.no_analyze:
        # Right after a bulk load the planner has no statistics (it guesses ~14 rows for the account)
        # and sorts all 50,000 users on disk for every page; autovacuum would ANALYZE soon anyway.
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    if not args.rate_limits:
        manage(env, "sandbox_account", "set", ACCOUNT, "rate_limits_enabled=false")
    credentials = sandbox_app_create(env, ACCOUNT)
    port = free_port()
    command = gunicorn_command(port, "--threads", "8")
    with sandbox_server(command, port=port, env=env, log_path=state / f"server-{backend}.log") as server:
        rows = measure(backend, server.base, credentials=credentials, samples=args.samples)
    return rows, shown(command, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--samples", type=int, default=300, help="requests for each single-user measurement")
    parser.add_argument("--rate-limits", action="store_true", help="keep the plan's rate limits on")
    parser.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: measure right after the seed, before any ANALYZE"
    )
    args = parser.parse_args()

    rows: list[Row] = []
    commands: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-scim-") as tmp:
        sqlite_state = Path(tmp, "sqlite")
        sqlite_state.mkdir()
        found, command = run("SQLite", f"sqlite:///{sqlite_state}/bench.sqlite3", sqlite_state, args)
        rows += found
        commands.append(command)
        server_url = postgres_url()
        if server_url is not None:
            postgres_state = Path(tmp, "postgres")
            postgres_state.mkdir()
            with fresh_postgres(server_url, prefix="bench_scim") as url:
                found, command = run("PostgreSQL", url, postgres_state, args)
                rows += found
                commands.append(command)

    header = ["database", "operation", "requests", "total s", "p50 ms", "p95 ms", "max ms"]
    table = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    print(
        f"python bench/sandbox_scim.py --users {args.users} --samples {args.samples}"
        f"{' --rate-limits' if args.rate_limits else ''}{' --no-analyze' if args.no_analyze else ''}"
        f" (rate limits {'on' if args.rate_limits else 'off'})"
    )
    for command in commands:
        print(f"server: {command}")
    for line in table:
        print(
            "  ".join(
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
