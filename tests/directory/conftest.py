"""Directory tests: the dashboard talks to the in-process sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _zoom(zoom_settings: None) -> None:
    """Every directory test reaches the sandbox through the in-process transport."""
