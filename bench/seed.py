"""Benchmark: seed one sandbox account of 50,000 users and 200 groups into a fresh database.

    .venv/bin/python bench/seed.py                      # SQLite (a temporary file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/seed.py   # and PostgreSQL

For PostgreSQL a fresh database is created beside the one DATABASE_URL names and dropped afterwards.
Each run migrates the fresh database, then times `manage.py sandbox_seed` as a separate process
(wall time, process start included) and reports the seed's own timing from its summary. Exits 1
when a run exceeds the budget (a minute), so the script can guard the target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from _support import fresh_postgres, manage, postgres_url, sandbox_env, sandbox_seed

BUDGET_SECONDS = 60.0


def run(label: str, database_url: str, var_dir: str, users: int, groups: int) -> float:
    env = sandbox_env(database_url, var_dir)
    manage(env, "migrate", "-v0", "--skip-checks")
    started = time.perf_counter()
    # Time the seed, not Django's system checks (as the recorded numbers were taken).
    summary = sandbox_seed(
        env, "--skip-checks", users=users, groups=groups, account="Bench Corp", domain="bench.example.com"
    )
    wall = time.perf_counter() - started
    inner = next((line.split(":", 1)[1].strip() for line in summary.splitlines() if "seconds:" in line), "?")
    counts = next((line.strip() for line in summary.splitlines() if "users:" in line), "")
    print(f"{label:<10} {users} users, {groups} groups: wall {wall:.1f} s (seed itself {inner} s) — {counts}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=200)
    args = parser.parse_args()

    walls = []
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as tmp:
        walls.append(run("SQLite", f"sqlite:///{tmp}/bench.sqlite3", tmp, args.users, args.groups))
        server_url = postgres_url()
        if server_url is not None:
            with fresh_postgres(server_url, prefix="bench_seed") as url:
                walls.append(run("PostgreSQL", url, tmp, args.users, args.groups))
    if max(walls) > BUDGET_SECONDS:
        sys.exit(f"over budget: {max(walls):.1f} s > {BUDGET_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
