"""Helpers the benchmark scripts share (run them as `python bench/<name>.py`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import httpx2

if TYPE_CHECKING:
    from django.test import Client

    from zoomadmin.accounts.models import ZoomAccount, ZoomConnection

ROOT = Path(__file__).resolve().parent.parent


def run_or_exit(command: Sequence[str], *, failed: str, env: Mapping[str, str] | None = None) -> str:
    """Run `command` from the repository root; its output, or exit the benchmark with `failed` and what it printed."""
    done = subprocess.run(list(command), cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{failed}:\n{done.stdout}{done.stderr}")
    return done.stdout


def manage(env: Mapping[str, str], *args: str) -> str:
    """Run `manage.py` with `env`; its output, or exit the benchmark with what went wrong."""
    return run_or_exit(
        [sys.executable, str(ROOT / "manage.py"), *args], failed=f"manage.py {' '.join(args)} failed", env=env
    )


def free_port() -> int:
    """A TCP port on the loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_url() -> str | None:
    """`DATABASE_URL` when it names a PostgreSQL database (benchmarks create theirs beside it), else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def postgres_url_required() -> str:
    """`DATABASE_URL`, or exit the benchmark when it does not name a PostgreSQL database."""
    url = postgres_url()
    if url is None:
        sys.exit("DATABASE_URL must name a PostgreSQL database (fresh ones are created beside it).")
    return url


@contextmanager
def fresh_postgres(url: str, *, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of `url`, dropped on exit."""
    import psycopg

    parts = urlsplit(url)
    name = f"{prefix}_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dashboard_migrate(database_url: str, var_dir: str | Path) -> None:
    """Migrate the dashboard's database `database_url` in a `manage.py` process (this environment, as the dashboard)."""
    env = {**os.environ, "DATABASE_URL": database_url, "ZOOMADMIN_VAR_DIR": str(var_dir)}
    env.pop("ZOOMADMIN_SERVE", None)
    manage(env, "migrate", "-v0")


def django_start(environ: Mapping[str, str]) -> None:
    """Set Django up in this process on the project's settings, with `environ` added to its environment first."""
    os.environ.update(environ, DJANGO_SETTINGS_MODULE="zoomadmin.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def sandbox_env(database_url: str, var_dir: str | Path) -> dict[str, str]:
    """This process's environment for a sandbox process: serving the sandbox on `database_url`, state in `var_dir`."""
    return {
        **os.environ,
        "ZOOMADMIN_SERVE": "sandbox",
        "SANDBOX_DATABASE_URL": database_url,
        "ZOOMADMIN_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
    }


def sandbox_seed(env: Mapping[str, str], *options: str, users: int, groups: int, account: str, domain: str) -> str:
    """Seed the sandbox account `account` (`manage.py sandbox_seed`, seed 42, `options` added); its summary."""
    return manage(
        env,
        "sandbox_seed",
        "--users",
        str(users),
        "--groups",
        str(groups),
        "--account-name",
        account,
        "--domain",
        domain,
        "--seed",
        "42",
        *options,
    )


def sandbox_app_create(env: Mapping[str, str], account: str) -> dict[str, str]:
    """A new Server-to-Server app of the sandbox account `account`: its client_id, client_secret and account_id."""
    return dict(
        line.split(": ", 1)
        for line in manage(env, "sandbox_app", "create-s2s", f"--account={account}").splitlines()
        if ": " in line
    )


def gunicorn_command(port: int, *options: str) -> list[str]:
    """The command line of gunicorn serving `zoomadmin.wsgi` on `port` of the loopback, `options` after,
    with the project's gunicorn settings (as bin/demo, the Dockerfile and docker-compose run it)."""
    return [
        str(ROOT / ".venv/bin/gunicorn"),
        "-c",
        "python:zoomadmin.gunicorn",
        "zoomadmin.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        *options,
    ]


class Server(NamedTuple):
    """A server a benchmark started: where it answers, and its (master) process."""

    base: str
    pid: int


@contextmanager
def sandbox_server(command: Sequence[str], *, port: int, env: Mapping[str, str], log_path: Path) -> Iterator[Server]:
    """Run `command`, a sandbox server listening on `port` of the loopback, with its output in `log_path`.

    Yields once `/` answers; exits the benchmark if the server exits first or does not answer within a
    minute. On the way out it stops the server: SIGTERM, and SIGKILL if it has not exited 15 s later.
    """
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(list(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    sys.exit(f"the sandbox server exited with {proc.returncode}; see {log_path}")
                try:
                    httpx2.get(f"{base}/", timeout=1.0)
                    break
                except httpx2.TransportError:
                    if time.monotonic() > deadline:
                        sys.exit(f"the sandbox server did not come up; see {log_path}")
                    time.sleep(0.2)
            yield Server(base, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def sandbox_token(base: str, credentials: Mapping[str, str]) -> dict[str, Any]:
    """An account-credentials token from the sandbox at `base` for the app of `credentials` (its JSON), or exit."""
    token = httpx2.post(
        f"{base}/oauth/token",
        data={"grant_type": "account_credentials", "account_id": credentials["account_id"]},
        auth=(credentials["client_id"], credentials["client_secret"]),
        timeout=30,
    )
    if token.status_code != 200:
        sys.exit(f"token request answered {token.status_code}: {token.text}")
    body: dict[str, Any] = token.json()
    return body


def dashboard_connection(base: str, credentials: Mapping[str, str], *, account: str, domain: str) -> ZoomConnection:
    """The dashboard's account `account` and an Owner's connection to it, for the sandbox app of `credentials`.

    An account-credentials token (the Owner's, valid an hour, never refreshed) stands in for an
    admin's sign-in.
    """
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from zoomadmin.accounts.models import ZoomAccount, ZoomConnection

    body = sandbox_token(base, credentials)
    zoom_account = ZoomAccount.objects.create(zoom_id=credentials["account_id"], name=account, plan="business")
    person = get_user_model().objects.create(username="bench")
    row = ZoomConnection(
        user=person, account=zoom_account, zoom_user_id="bench-owner", zoom_email=f"owner@{domain}", role="Owner"
    )
    row.tokens_set(
        access_token=body["access_token"],
        refresh_token="unused-in-this-benchmark",
        expires_at=timezone.now() + timedelta(seconds=int(body["expires_in"])),
        scopes=body.get("scope", ""),
    )
    row.save()
    return row


def admin_client(account: ZoomAccount) -> Client:
    """A Django test client signed in as the Owner of `account` (its first mirrored user), connection current.

    For pages that read only the mirror, the audit log, the jobs and Redis: the connection's tokens
    are placeholders that are never used.
    """
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
    from zoomadmin.accounts.models import ZoomConnection

    person = get_user_model().objects.create(username="bench-admin")
    admin = ZoomConnection(
        user=person, account=account, zoom_user_id=f"{account.zoom_id}-u0000000", zoom_email="admin@bench", role="Owner"
    )
    admin.tokens_set(
        access_token="unused", refresh_token="unused", expires_at=timezone.now() + timedelta(hours=1), scopes=""
    )
    admin.save()
    client = Client()
    client.force_login(person)
    session = client.session
    session[CURRENT_SESSION_KEY] = admin.pk
    session.save()
    return client
