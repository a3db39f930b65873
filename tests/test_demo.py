"""The README's demo command, run for real: fresh state, embedded Redis, SQLite, three servers."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx2
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path):
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
    }
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


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
    assert "ready" in (demo["var"] / "worker.log").read_text()
