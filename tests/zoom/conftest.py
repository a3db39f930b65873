from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.zoom.support import SANDBOX, FixedTokens
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser
from zoomadmin.sandbox.transport import sandbox_transport
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.ratelimit import default_limiter


@pytest.fixture
def make_client() -> Callable[..., ZoomClient]:
    """A ZoomClient to the in-process sandbox with the real Redis limiter (own bucket per client)."""

    def make(tokens: Any, **kwargs: Any) -> ZoomClient:
        kwargs.setdefault("transport", sandbox_transport())
        kwargs.setdefault("plan", "business")
        kwargs.setdefault("wait_for_slot", True)
        return ZoomClient(
            api_base_url=SANDBOX,
            account_id=kwargs.pop("account_id", f"test-{uuid.uuid4().hex}"),
            tokens=tokens,
            limiter=default_limiter(),
            **kwargs,
        )

    return make


@pytest.fixture
def client(
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> ZoomClient:
    """A ZoomClient acting as the sandbox account's owner."""
    return make_client(FixedTokens(make_token(sandbox_account, sandbox_owner)))
