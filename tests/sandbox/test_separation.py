"""The dashboard and the sandbox are separate processes with separate databases and admin users.

The test process itself has the sandbox installed (zoomadmin.sandbox.in_process), so the
production-like processes run as `manage.py` subprocesses, against temporary SQLite files, with the
environment bin/demo and docker compose give them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]

# Everything a dashboard process sees about the sandbox, as JSON.
DASHBOARD_PROBE = """
import json
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
print(json.dumps({
    "installed": apps.is_installed("zoomadmin.sandbox"),
    "models": [m._meta.label for m in apps.get_models() if m._meta.app_label == "sandbox"],
    "admin": sorted(m._meta.label for m in admin.site._registry),
    "middleware": settings.MIDDLEWARE,
    "database": str(settings.DATABASES["default"]["NAME"]),
    "users": list(User.objects.values_list("username", flat=True)),
    "login": authenticate(username="sandbox-admin", password=open("{password}").read().strip()) is not None,
}))
"""

SANDBOX_PROBE = """
import json
from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate
print(json.dumps({
    "apps": [a.name for a in apps.get_app_configs() if a.name.startswith("zoomadmin")],
    "database": str(settings.DATABASES["default"]["NAME"]),
    "login": authenticate(username="sandbox-admin", password=open("{password}").read().strip()) is not None,
}))
"""


@dataclass
class Install:
    var: Path
    dashboard_db: Path
    sandbox_db: Path

    def env(self, serve: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "SANDBOX_DATABASE_URL", "ZOOMADMIN_SANDBOX_IN_PROCESS"}
        }
        # As in production and the demo: nothing asks for the sandbox in-process; both URLs given,
        # so the sandbox process must pick its own and ignore DATABASE_URL.
        env.update(
            ZOOMADMIN_SERVE=serve,
            ZOOMADMIN_VAR_DIR=str(self.var),
            DATABASE_URL=f"sqlite:///{self.dashboard_db}",
            SANDBOX_DATABASE_URL=f"sqlite:///{self.sandbox_db}",
            DJANGO_SETTINGS_MODULE="zoomadmin.settings",
        )
        return env

    def manage(self, serve: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(serve),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} ({serve}):\n{done.stdout}{done.stderr}"
        return done.stdout

    def probe(self, serve: str, code: str) -> dict:
        password = self.var / "sandbox_admin_password"
        return json.loads(self.manage(serve, "shell", "-v0", "-c", code.replace("{password}", str(password))))


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """Both databases migrated and the sandbox prepared the way bin/demo does it."""
    var = tmp_path_factory.mktemp("separate")
    install = Install(var=var, dashboard_db=var / "dashboard.sqlite3", sandbox_db=var / "sandbox.sqlite3")
    install.manage("dashboard", "migrate", "--noinput", "-v0")
    install.manage("sandbox", "migrate", "--noinput", "-v0")
    install.manage(
        "sandbox",
        "sandbox_demo",
        "--redirect-uri=http://localhost:8000/accounts/callback",
        "--client-id=demo",
        "--client-secret=demo-secret",
        f"--env-file={var / 'demo.env'}",
    )
    return install


def test_dashboard_process_has_no_sandbox_models_admin_pages_or_routing(install: Install) -> None:
    seen = install.probe("dashboard", DASHBOARD_PROBE)

    assert seen["database"] == str(install.dashboard_db)
    assert seen["installed"] is False
    assert seen["models"] == []
    assert seen["admin"], "the dashboard's admin lists nothing at all?"
    assert [label for label in seen["admin"] if label.startswith("sandbox.")] == []
    assert not any("sandbox" in name for name in seen["middleware"])


def test_dashboard_database_has_no_sandbox_tables_and_the_sandbox_no_dashboard_tables(install: Install) -> None:
    dashboard, sandbox = tables(install.dashboard_db), tables(install.sandbox_db)

    assert "auth_user" in dashboard
    assert [name for name in dashboard if name.startswith("sandbox_")] == []
    assert {"sandbox_sandboxaccount", "sandbox_sandboxuser", "auth_user"} <= sandbox
    assert [name for name in sandbox if name.startswith("accounts_")] == []


def test_sandbox_process_serves_only_the_sandbox_from_its_own_database(install: Install) -> None:
    seen = install.probe("sandbox", SANDBOX_PROBE)

    assert seen["apps"] == ["zoomadmin.sandbox"]
    assert seen["database"] == str(install.sandbox_db)
    assert seen["login"] is True


def test_sandbox_knobs_password_does_not_open_the_dashboard_admin(install: Install) -> None:
    seen = install.probe("dashboard", DASHBOARD_PROBE)

    assert "sandbox-admin" not in seen["users"]
    assert seen["login"] is False


@pytest.mark.django_db
def test_sandbox_migrations_match_its_models() -> None:
    # bin/test's makemigrations check runs as the dashboard, where the sandbox is not installed.
    call_command("makemigrations", "sandbox", "--check", "--dry-run", verbosity=0)
