"""Benchmark of the sandbox's rate limiter over real HTTP: does a multi-process server hold Zoom's limit?

    .venv/bin/python bench/sandbox_ratelimit.py [--clients 16] [--seconds 5] [--plan business]
        [--server gunicorn|runserver] [--workers 2] [--path /v2/users/me]

Starts a sandbox server (gunicorn with several worker processes by default, or runserver) on a
free loopback port, in a throwaway state directory (its own SQLite file; REDIS_URL if set, else an
embedded Redis there), creates an account with rate limits on and an owner token, and fires
`--clients` concurrent clients at one Light endpoint for `--seconds`. Prints the requests served
per calendar second, the most served in any sliding second by answer time (which may exceed the
limit by a few answers decided earlier but delivered late), the most served that were provably
decided within one second (sent no earlier than, and answered within a second of, the first one:
this one must never exceed the limit), and the 429 counts.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from _support import django_start, free_port, gunicorn_command, sandbox_env, sandbox_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--plan", default="business", choices=("free", "pro", "business"))
    parser.add_argument("--server", default="gunicorn", choices=("gunicorn", "runserver"))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--path", default="/v2/users/me", help="a Light endpoint")
    args = parser.parse_args()

    state = tempfile.mkdtemp(prefix="sandbox-bench-")
    env = {**sandbox_env(f"sqlite:///{state}/sandbox.sqlite3", state), "LOG_LEVEL": "warning"}
    django_start(env)
    from django.core.management import call_command

    from zoomadmin.redis import embedded_redis_start, embedded_redis_stop, redis_client
    from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxUser
    from zoomadmin.sandbox.ratelimit import WINDOW_LIMITS
    from zoomadmin.sandbox.tokens import tokens_issue

    call_command("migrate", verbosity=0)
    account = SandboxAccount.objects.create(
        name="Bench", vanity_domain="bench.example.com", plan=args.plan, rate_limits_enabled=True
    )
    owner = SandboxUser.objects.create(account=account, user_name="owner@bench.example.com", role=Role.OWNER)
    app = OAuthApp.objects.create(name="bench", client_id="bench", client_secret="bench-secret")
    token = tokens_issue(
        app=app,
        account=account,
        user=owner,
        scopes="user:read:user scim2:admin",
        with_refresh=False,
        revoke_previous=False,
    ).access_token
    limit = WINDOW_LIMITS[args.plan]["Light"]
    # This benchmark owns the embedded Redis when REDIS_URL is not set: started here, stopped at exit.
    server = embedded_redis_start()
    if server is not None:
        atexit.register(embedded_redis_stop, server)

    port = free_port()
    if args.server == "gunicorn":
        command = gunicorn_command(port, "--workers", str(args.workers), "--threads", "8", "--log-level", "warning")
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    try:
        with sandbox_server(command, port=port, env=env, log_path=Path(state, "server.log")) as sandbox:
            results = fire(base=sandbox.base, path=args.path, token=token, clients=args.clients, seconds=args.seconds)
    finally:
        print(f"server log: {state}/server.log")
        if os.environ.get("REDIS_URL") is None:
            redis_client().shutdown(nosave=True)

    report(results, limit=limit, args=args)


def fire(*, base: str, path: str, token: str, clients: int, seconds: float) -> list[tuple[float, float, int]]:
    """(sent, answered, status) of every request the clients made, in seconds since the start."""
    import httpx2

    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    start = 0.0

    def client() -> None:
        mine: list[tuple[float, float, int]] = []
        with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as http:
            barrier.wait()
            while (sent := time.monotonic() - start) < seconds:
                try:
                    status = http.get(path).status_code
                except httpx2.TransportError:
                    status = 0  # no answer in time
                mine.append((sent, time.monotonic() - start, status))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    return results


def report(results: list[tuple[float, float, int]], *, limit: int, args: argparse.Namespace) -> None:
    spans = sorted((sent, answered) for sent, answered, status in results if status == 200)
    served = sorted(answered for _, answered in spans)
    statuses = Counter(status for *_, status in results)
    # Served requests that were provably decided within one second: sent at or after one request
    # was sent and answered less than a second after that. Must never exceed the limit.
    proven_max = max(
        (sum(1 for sent, answered in spans[j:] if answered < first + 1.0) for j, (first, _) in enumerate(spans)),
        default=0,
    )
    per_second = Counter(int(t) for t in served)
    sliding_max = 0
    j = 0
    for i, t in enumerate(served):
        while served[j] <= t - 1.0:
            j += 1
        sliding_max = max(sliding_max, i - j + 1)
    print(
        f"server={args.server} workers={args.workers if args.server == 'gunicorn' else 1} "
        f"plan={args.plan} Light limit={limit}/s clients={args.clients} seconds={args.seconds}"
    )
    print(f"requests={len(results)} statuses={dict(sorted(statuses.items()))}")
    print("served per calendar second:", [per_second.get(s, 0) for s in range(int(args.seconds) + 1)])
    print(f"max served in any sliding second (by answer time): {sliding_max} (limit {limit})")
    print(f"max served provably decided within one second: {proven_max} (limit {limit})")
    print(f"429 share: {statuses.get(429, 0) / max(1, len(results)):.1%}")


if __name__ == "__main__":
    main()
