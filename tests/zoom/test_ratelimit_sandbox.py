"""A 429 from the sandbox's own Zoom rate limiter, through the real client, slows our shared bucket."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx2
import pytest

from tests.zoom.support import FixedTokens
from tests.zoom.test_ratelimit import take_all
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxUser
from zoomadmin.sandbox.transport import sandbox_transport
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import RateLimited
from zoomadmin.zoom.ratelimit import default_limiter


def test_a_zoom_429_slows_our_bucket_for_every_caller(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
) -> None:
    # Free plan, Light: Zoom allows 4/s, our share is 3/s; a 429 cuts that to 2.4/s.
    account = make_sandbox_account(rate_limits_enabled=True, plan="free")
    owner = make_sandbox_user(account, role=Role.OWNER)
    token = make_token(account, owner)
    limiter = default_limiter()
    our_id = f"test-{uuid.uuid4().hex}"
    client = ZoomClient(
        api_base_url="http://sandbox.test",
        account_id=our_id,
        plan="free",
        tokens=FixedTokens(token),
        limiter=limiter,
        wait_for_slot=False,
        transport=sandbox_transport(),
    )
    # Another app on the same Zoom account spends Zoom's Light budget, unseen by our limiter.
    with httpx2.Client(
        transport=sandbox_transport(), base_url="http://sandbox.test", headers={"Authorization": f"Bearer {token}"}
    ) as other_app:
        answers = [other_app.get(f"/scim2/Users/{owner.zoom_id}").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 200]
    with pytest.raises(RateLimited) as zoom_said:
        client.get_user(owner.zoom_id)
    assert zoom_said.value.status == 429
    # Our call took one slot of 3; unpenalized, 2 would remain. Now 1 does: the rate was cut to 2.4.
    assert take_all(limiter, our_id, "free", "Light")[0] == 1
    time.sleep(1.06)  # the whole window (1 s + margin) passes
    # A fresh window serves 2, not 3 (80 % of 3, plus 10 % of the budget back per clean window).
    assert take_all(limiter, our_id, "free", "Light")[0] == 2
    client.close()
