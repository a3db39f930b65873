"""Install the sandbox inside the dashboard's process, for the development tools that need it.

The test suite talks to the sandbox in-process (`sandbox_transport()`, `SANDBOX_HOSTS`), and the
type checker must know the sandbox's models; a production process does neither, and there the
sandbox app is not installed at all. The settings decide which apps and middleware exist, so the
switch has to be in the environment before they load:

- pytest imports this module through `-p zoomadmin.sandbox.in_process` (pyproject's addopts), before
  pytest-django reads the settings (a conftest.py would come too late);
- mypy imports it as a plugin listed before django-stubs' plugin, which loads the settings.
"""

from __future__ import annotations

import os
from typing import Any

# Forced rather than defaulted: the suite and the type check are written against this configuration.
os.environ["ZOOMADMIN_SERVE"] = "dashboard"
os.environ["ZOOMADMIN_SANDBOX_IN_PROCESS"] = "true"


def plugin(version: str) -> Any:
    """mypy's plugin entry point: the import above is all this plugin does."""
    from mypy.plugin import Plugin

    return Plugin
