"""Fixtures of the bulk-change tests: the dashboard talks to the in-process sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _zoom_sandbox(zoom_settings: None) -> None:
    """Every test here points the dashboard's Zoom client at the in-process sandbox."""
