"""Directory tests: the dashboard talks to the in-process sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.models import SyncRun
from zoomadmin.directory.sync import sync_execute, sync_request


@pytest.fixture(autouse=True)
def _zoom(zoom_settings: None) -> None:
    """Every directory test reaches the sandbox through the in-process transport."""


# --- the pages' fixtures (users and groups pages) ---------------------------------------------


@pytest.fixture
def mirror_sync() -> Callable[[ZoomAccount], SyncRun]:
    """`mirror_sync(account)`: one complete sync pass of the account's mirror from the sandbox, as a worker runs it."""

    def run(account: ZoomAccount) -> SyncRun:
        return sync_execute(run_id=sync_request(account=account).pk)

    return run
