"""The README's commands, run for real: bin/demo (fresh state, embedded Redis, SQLite, three
servers, Ctrl-C) and bin/test's ownership of the embedded Redis.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The promise to whoever presses Ctrl-C: every process of the demo is gone this soon, loaded machine or not.
SHUTDOWN_SECONDS = 10


def _processes_of(var: Path) -> list[psutil.Process]:
    """Live processes started for the state in `var`: by their environment, or (redis-server, which
    rewrites its own process title and environment area) by the socket path in their command line."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ", "status"]):
        info = process.info
        if info["status"] == psutil.STATUS_ZOMBIE:
            continue
        environ = info["environ"] or {}
        cmdline = " ".join(info["cmdline"] or [])
        if environ.get("ZOOMADMIN_VAR_DIR") == str(var) or str(var / "redis.sock") in cmdline:
            found.append(process)
    return found


def _describe(processes: list[psutil.Process]) -> list[str]:
    described = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            described.append(f"{process.pid} {' '.join(process.cmdline())}")
    return described


def _kill_leftovers(var: Path) -> None:
    """After a failed test: leave nothing running for the next one."""
    for process in _processes_of(var):
        with contextlib.suppress(psutil.Error):
            process.kill()


@contextlib.contextmanager
def _cpu_load() -> Iterator[None]:
    """Every core busy with a spinning process while the block runs (a loaded machine)."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp_path = tmp_path_factory.mktemp("demo")
    dashboard_port, sandbox_port = _free_port(), _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # The zero-setup path: no database or Redis given, nothing from the test run's settings.
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SANDBOX_HOSTS"}
    }
    env.update(
        ZOOMADMIN_VAR_DIR=str(tmp_path / "var"),
        DEMO_PORT=str(dashboard_port),
        SANDBOX_PORT=str(sandbox_port),
    )
    log = (tmp_path / "demo.out").open("w+")
    process = subprocess.Popen(
        ["bash", str(ROOT / "bin" / "demo")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    output = ""
    while "zoomadmin is running" not in output:
        assert process.poll() is None, f"bin/demo exited early:\n{(tmp_path / 'demo.out').read_text()}"
        assert time.monotonic() < deadline, f"bin/demo did not come up:\n{output}"
        time.sleep(0.5)
        output = (tmp_path / "demo.out").read_text()
    yield {
        "dashboard": f"http://localhost:{dashboard_port}",
        "sandbox": f"http://127.0.0.1:{sandbox_port}",
        "output": output,
        "var": tmp_path / "var",
        "process": process,
    }
    # The shutdown test stops the demo; if it did not run or failed, stop it here all the same.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    _kill_leftovers(tmp_path / "var")


def test_demo_starts_the_sandbox_worker_and_dashboard(demo: dict) -> None:
    output = demo["output"]
    assert demo["dashboard"] in output
    assert "owner@acme.example.com" in output

    health = httpx2.get(f"{demo['dashboard']}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}

    # Sign in with Zoom: the dashboard sends the browser to the sandbox's consent page.
    with httpx2.Client(timeout=10) as browser:
        page = browser.get(f"{demo['dashboard']}/login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text
        start = browser.post(
            f"{demo['dashboard']}/login",
            data={"csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{demo['dashboard']}/login"},
        )
        assert start.status_code == 302
        authorize = start.headers["location"]
        assert authorize.startswith(f"{demo['sandbox']}/oauth/authorize?")
        consent = browser.get(authorize)
        assert consent.status_code == 200
        assert "owner@acme.example.com" in consent.text

    # The sandbox's API answers with Zoom's 401 for a missing token, rate-limit headers included.
    api = httpx2.get(f"{demo['sandbox']}/scim2/Users", timeout=10)
    assert api.status_code == 401
    assert api.json()["code"] == 124

    # The sandbox's knobs password opens the sandbox's admin only: its superuser is in its own database.
    password = (demo["var"] / "sandbox_admin_password").read_text().strip()
    for site, signed_in in ((demo["sandbox"], True), (demo["dashboard"], False)):
        with httpx2.Client(timeout=10) as browser:
            form = browser.get(f"{site}/admin/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
            assert token, form.text
            login = browser.post(
                f"{site}/admin/login/?next=/admin/",
                data={"csrfmiddlewaretoken": token.group(1), "username": "sandbox-admin", "password": password},
                headers={"Referer": f"{site}/admin/login/"},
            )
            assert (login.status_code == 302) is signed_in, (site, login.status_code)
    assert (demo["var"] / "db.sqlite3").exists()
    with sqlite3.connect(demo["var"] / "db.sqlite3") as dashboard_db:
        assert dashboard_db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0
        assert dashboard_db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'sandbox%'").fetchall() == []
    assert (demo["var"] / "sandbox.sqlite3").exists()
    # The worker says "ready" once it has met its neighbours (mingle), which on a loaded machine can
    # come after the web pages above answered.
    worker_log = demo["var"] / "worker.log"
    deadline = time.monotonic() + 60
    while "ready" not in worker_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "ready" in worker_log.read_text()


def test_ctrl_c_stops_every_demo_process_within_10_seconds_on_a_loaded_machine(demo: dict) -> None:
    var, process = demo["var"], demo["process"]
    running = " / ".join(_describe(_processes_of(var)))
    # What must stop: both gunicorns (dashboard and sandbox), the Celery worker and the embedded Redis.
    assert running.count("gunicorn") >= 2, running
    assert "celery" in running, running
    assert "redis-server" in running, running

    with _cpu_load():
        # What Ctrl-C in the terminal does: SIGINT to the demo's foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_SECONDS)
        left = _processes_of(var)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _processes_of(var)

    assert process.poll() is not None, f"bin/demo still runs {SHUTDOWN_SECONDS}s after Ctrl-C"
    assert _describe(left) == []
    assert not (var / "redis.sock").exists()


def _bin_test(var: Path, *pytest_args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # bin/test's zero-setup path: SQLite and the embedded Redis, in a state directory of its own.
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["ZOOMADMIN_VAR_DIR"] = str(var)
    try:
        return subprocess.run(
            ["bash", str(ROOT / "bin" / "test"), *pytest_args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        leftovers = _describe(_processes_of(var))
        _kill_leftovers(var)
        assert leftovers == [], "bin/test left processes running"


def test_bin_test_stops_its_embedded_redis_when_the_tests_pass(tmp_path: Path) -> None:
    var = tmp_path / "var"

    result = _bin_test(var, "tests/test_env.py", "-q")

    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    # The run had an embedded Redis of its own (its log is in the state directory) and it is gone.
    assert (var / "redis.log").exists()
    assert not (var / "redis.sock").exists()


def test_bin_test_stops_its_embedded_redis_when_pytest_collects_nothing(tmp_path: Path) -> None:
    var = tmp_path / "var"

    result = _bin_test(var, "tests/test_env.py", "-q", "-k", "no_test_has_this_name")

    # pytest's exit 5 (nothing collected) is a failure of the run, and the Redis is stopped all the same.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pytest collected no tests: that is a failure." in result.stderr
    assert (var / "redis.log").exists()
    assert not (var / "redis.sock").exists()
