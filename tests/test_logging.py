"""Logging as a running process configures it: each record is written once, in our format.

Django applies its own DEFAULT_LOGGING first (a `console` handler on the `django` logger, active
under DEBUG) and then settings.LOGGING on top; a record from `django.request` must not reach both
that handler and our root handler. Checked in a fresh process, because pytest owns this one's logging.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A real request through the real URLconf and middleware: Django logs the 404 on django.request.
_REQUEST_A_MISSING_PAGE = """
import django
django.setup()
from django.conf import settings
# The not-found page links the stylesheet; without DEBUG that needs collected files, which a deployment
# has (the Dockerfile runs collectstatic) and this checkout may not: link the files where they are.
plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
settings.STORAGES = {**settings.STORAGES, "staticfiles": plain}
from django.test import Client
response = Client().get("/no-such-page-for-the-logging-test", HTTP_HOST="localhost")
assert response.status_code == 404, response.status_code
"""


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_not_found_warning_is_written_once(tmp_path: Path, debug: str) -> None:
    env = {**os.environ, "DEBUG": debug, "LOG_LEVEL": "info", "ZOOMADMIN_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", _REQUEST_A_MISSING_PAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "/no-such-page-for-the-logging-test" in line]
    assert len(lines) == 1, result.stderr
    # Our root handler's format: time, level, logger name, message.
    assert " WARNING django.request Not Found: /no-such-page-for-the-logging-test" in lines[0]
