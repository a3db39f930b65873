"""Benchmark of the shared Zoom rate limiter: N processes hammering one bucket.

    .venv/bin/python bench/ratelimit.py [--processes 4] [--seconds 5] [--plan business] [--label Light]

Uses REDIS_URL, or the embedded Redis when it is not set. Prints the grant rate against the budget,
the most grants seen in any sliding window (must not exceed the budget), how many Redis round trips
each grant cost (waiters that lose a race to another process ask again), and the wait per grant.
"""

from __future__ import annotations

import argparse
import atexit
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")

from redis import Redis


class CountingRedis(Redis):
    """A Redis client that counts the commands it sends (one command = one round trip here)."""

    commands = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        CountingRedis.commands += 1
        return super().execute_command(*args, **options)


def hammer(redis_url: str, account_id: str, plan: str, label: str, ready: Any, go: Any, stop: Any, out: Any) -> None:
    """One process: from `go` until `stop.value` (time.time()), take slots and report what it cost."""
    from zoomadmin.zoom.ratelimit import RateLimiter

    limiter = RateLimiter(CountingRedis.from_url(redis_url), share=0.8)
    ready.release()
    go.wait(timeout=60)
    grants: list[float] = []
    waited = 0.0
    stop_at = stop.value
    while time.time() < stop_at:
        started = time.perf_counter()
        limiter.acquire(account_id=account_id, plan=plan, label=label, wait=True, max_wait=120)
        waited += time.perf_counter() - started
        grants.append(time.time())
    out.put((grants, CountingRedis.commands, waited))


def max_in_any_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--plan", default="business")
    parser.add_argument("--label", default="Light")
    opts = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from zoomadmin.redis import embedded_redis_start, embedded_redis_stop
    from zoomadmin.zoom.plans import plan_budget

    # This benchmark owns the embedded Redis when REDIS_URL is not set: started here, stopped at exit.
    server = embedded_redis_start()
    if server is not None:
        atexit.register(embedded_redis_stop, server)
    budget = plan_budget(plan=opts.plan, label=opts.label, share=0.8)
    ctx = multiprocessing.get_context("spawn")
    ready, go, stop, out = ctx.Semaphore(0), ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    account_id = f"bench-{uuid.uuid4().hex}"
    args = (settings.REDIS_URL, account_id, opts.plan, budget.label, ready, go, stop, out)
    procs = [ctx.Process(target=hammer, args=args) for _ in range(opts.processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire(timeout=120)
    stop.value = time.time() + opts.seconds
    go.set()
    results = [out.get(timeout=opts.seconds + 180) for _ in procs]
    for proc in procs:
        proc.join()

    grants = sorted(t for r in results for t in r[0])
    commands = sum(r[1] for r in results)
    waited = sum(r[2] for r in results)
    # A waiter may be granted its slot just after the end; the rate counts the run's own seconds.
    in_run = sum(1 for t in grants if t < stop.value)
    print(f"redis: {'embedded' if settings.EMBEDDED_REDIS else settings.REDIS_URL}")
    print(f"bucket: {opts.plan} {budget.label}, budget {budget.per_window} per {budget.window:g} s (share 0.8)")
    print(f"processes: {opts.processes}, run: {opts.seconds:g} s, grants: {len(grants)}")
    print(f"grants/s: {in_run / opts.seconds:.1f} (budget {budget.per_window / budget.window:.1f}/s)")
    print(f"max grants in any sliding {budget.window:g} s window: {max_in_any_window(grants, budget.window)}")
    print(f"redis round trips per acquire: {commands / max(1, len(grants)):.2f}")
    print(f"mean wait per acquire: {1000 * waited / max(1, len(grants)):.1f} ms")


if __name__ == "__main__":
    main()
