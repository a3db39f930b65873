"""docker-compose.yml, the Dockerfile and .env.example cannot run here; check they match the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env_example_names() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}


def test_every_setting_read_from_the_environment_is_documented() -> None:
    source = (ROOT / "zoomadmin" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|float|list|choice)\("([A-Z_]+)"', source))
    read |= set(re.findall(r'_generated_secret\("([A-Z_]+)"', source))
    assert read, "settings.py reads no variables?"
    assert read - _env_example_names() == set()


def test_every_documented_variable_is_used() -> None:
    used = (ROOT / "zoomadmin" / "settings.py").read_text() + (ROOT / "docker-compose.yml").read_text()
    unused = {name for name in _env_example_names() if name not in used}
    assert unused == set()


def test_compose_has_the_stack_and_runs_real_entry_points() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "sandbox"} <= set(services)
    web = services["web"]["command"]
    assert web[:4] == ["gunicorn", "-c", "python:zoomadmin.gunicorn", "zoomadmin.wsgi"]
    assert services["sandbox"]["command"][:4] == web[:4]
    assert callable(import_string("zoomadmin.wsgi.application"))
    celery_app = import_string("zoomadmin.celery_app")
    for name in ("worker", "beat"):
        command = services[name]["command"]
        assert command[:3] == ["celery", "-A", "zoomadmin"]
        assert command[3] == name
    assert celery_app.main == "zoomadmin"
    assert services["sandbox"]["environment"]["ZOOMADMIN_SERVE"] == "sandbox"
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_compose_sandbox_shares_no_database_redis_or_state_with_the_dashboard() -> None:
    compose = _compose()
    services = compose["services"]
    dashboard_env = compose["x-app"]["environment"]
    sandbox_services = {name for name, service in services.items() if service.get("profiles") == ["sandbox"]}
    assert sandbox_services == {"sandbox-createdb", "sandbox-migrate", "sandbox"}
    # Without the profile (production), nothing serves or migrates the sandbox.
    for name in set(services) - sandbox_services:
        assert services[name].get("environment", {}).get("ZOOMADMIN_SERVE") != "sandbox", name
        assert "SANDBOX_DATABASE_URL" not in services[name].get("environment", {}), name

    sandbox_env = services["sandbox"]["environment"]
    assert services["sandbox-migrate"]["environment"] == sandbox_env
    assert services["sandbox-migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["sandbox"]["depends_on"]["sandbox-migrate"]["condition"] == "service_completed_successfully"
    assert services["sandbox-migrate"]["depends_on"]["sandbox-createdb"]["condition"] == (
        "service_completed_successfully"
    )
    # DATABASE_URL is ignored in a sandbox process; its own database is on the same server, another name.
    assert "DATABASE_URL" not in sandbox_env
    sandbox_db = sandbox_env["SANDBOX_DATABASE_URL"].split("@")[1]
    dashboard_db = dashboard_env["DATABASE_URL"].split("@")[1]
    assert sandbox_db.startswith("postgres:5432/")
    assert sandbox_db != dashboard_db
    sandbox_db_name = sandbox_db.split("/", 1)[1]
    createdb = " ".join(services["sandbox-createdb"]["command"])
    assert f"createdb {sandbox_db_name}" in createdb
    assert f"datname = '{sandbox_db_name}'" in createdb
    # Its rate-limit counters and cache in another Redis database, its keys in another volume.
    assert sandbox_env["REDIS_URL"].rsplit("/", 1)[0] == dashboard_env["REDIS_URL"].rsplit("/", 1)[0]
    assert sandbox_env["REDIS_URL"] != dashboard_env["REDIS_URL"]
    for name in ("sandbox", "sandbox-migrate"):
        assert services[name]["volumes"] == ["sandboxvar:/app/var"]
    assert "sandboxvar" in compose["volumes"]


def test_compose_database_and_redis_urls_point_at_its_services() -> None:
    compose = _compose()
    env = compose["x-app"]["environment"]
    assert env["DATABASE_URL"].split("@")[1].startswith("postgres:5432/")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_dockerfile_copies_what_exists_and_serves_the_same_app() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for match in re.finditer(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in match.group(1).split():
            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert "python:3.12" in dockerfile
    assert '"gunicorn", "-c", "python:zoomadmin.gunicorn", "zoomadmin.wsgi"' in dockerfile


def test_sandbox_urlconf_serves_zoom_urls() -> None:
    # ZOOMADMIN_SERVE=sandbox switches the URLconf the way the compose service and bin/demo use it.
    assert settings.ROOT_URLCONF == "zoomadmin.urls"
    from django.urls import resolve

    match = resolve("/scim2/Users", urlconf="zoomadmin.sandbox.urls")
    assert match.func.__module__.startswith("zoomadmin.sandbox")


def test_access_logs_never_carry_query_strings() -> None:
    # The OAuth callback's query string holds the sign-in code and state.
    from zoomadmin import gunicorn

    assert gunicorn.accesslog == "-"
    assert "%(U)s" in gunicorn.access_log_format
    for atom in ("%(r)s", "%(q)s", "%({"):
        assert atom not in gunicorn.access_log_format


def test_workers_keep_what_they_loaded_out_of_full_collections() -> None:
    # In a process of its own: freezing is process-wide and this one's tests must not inherit it.
    code = (
        "import gc; from zoomadmin import gunicorn; before = gc.get_freeze_count(); "
        "gunicorn.post_worker_init(None); print(before, gc.get_freeze_count())"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, after = map(int, output.split())
    assert after > before + 1000  # the worker's modules, classes and functions


def _database_options(tmp_path: Path, **env: str) -> dict:
    """The OPTIONS settings.py gives the default database under `env` (read in a fresh process)."""
    code = "import json, zoomadmin.settings as s; print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "PG_OPTIONS", "ZOOMADMIN_SERVE", "SANDBOX_DATABASE_URL"}
    }
    environ.update(ZOOMADMIN_VAR_DIR=str(tmp_path), **env)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_postgresql_connections_price_random_reads_for_ssd_unless_told_otherwise(tmp_path: Path) -> None:
    url = "postgres://zoomadmin@db.example.com:5432/zoomadmin"
    assert _database_options(tmp_path, DATABASE_URL=url)["options"] == "-c random_page_cost=1.1"
    assert "options" not in _database_options(tmp_path, DATABASE_URL=url, PG_OPTIONS="")
    assert _database_options(tmp_path, DATABASE_URL=url, PG_OPTIONS="-c work_mem=64MB")["options"] == "-c work_mem=64MB"
    # SQLite (the demo) gets none of it.
    assert "options" not in _database_options(tmp_path)
