"""How ZoomClient turns Zoom's refusals and failures into our exceptions (sandbox answers)."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from tests.zoom.support import FixedTokens, RefreshingTokens, issue_pair, revoke_access
from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxUser
from zoomadmin.sandbox.transport import sandbox_transport
from zoomadmin.zoom.client import ZoomClient, retry_after_seconds
from zoomadmin.zoom.errors import Forbidden, Invalid, RateLimited, Unauthorized, Unavailable, wait_in_words
from zoomadmin.zoom.ratelimit import default_limiter


@pytest.fixture(autouse=True)
def _oauth_through_sandbox(settings: Any) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "zoomadmin.sandbox.transport.sandbox_transport"


def test_expired_token_is_refreshed_once_and_the_call_succeeds(
    sandbox_app: OAuthApp,
    sandbox_owner: SandboxUser,
    make_client: Callable[..., ZoomClient],
) -> None:
    access, refresh = issue_pair(sandbox_app, sandbox_owner)
    revoke_access(access)
    tokens = RefreshingTokens(access, refresh)
    client = make_client(tokens)
    assert client.get_user(sandbox_owner.zoom_id).user_name == "owner@acme.example.com"
    assert tokens.access != access
    # The new token keeps working without another refresh.
    assert client.me().email == "owner@acme.example.com"


def test_dead_refresh_token_is_unauthorized(
    sandbox_app: OAuthApp,
    sandbox_owner: SandboxUser,
    make_client: Callable[..., ZoomClient],
) -> None:
    access, _refresh = issue_pair(sandbox_app, sandbox_owner)
    revoke_access(access)
    tokens = RefreshingTokens(access, "not-a-refresh-token")
    with pytest.raises(Unauthorized) as caught:
        make_client(tokens).get_user(sandbox_owner.zoom_id)
    assert "Sign in with Zoom again" in caught.value.message
    assert access not in str(caught.value)
    assert access not in caught.value.detail


def test_token_refused_again_after_refresh_is_unauthorized(
    sandbox_owner: SandboxUser,
    make_client: Callable[..., ZoomClient],
) -> None:
    class StillBad:
        def access_token(self) -> str:
            return "expired-token"

        def refreshed_access_token(self, rejected: str) -> str:
            return "another-bad-token"

    with pytest.raises(Unauthorized) as caught:
        make_client(StillBad()).list_users()
    assert caught.value.status == 401
    assert "another-bad-token" not in str(caught.value) + caught.value.detail


def test_missing_scope_is_forbidden_without_refresh(
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    # FixedTokens fails the test if a refresh is attempted: a refresh cannot add a scope.
    client = make_client(FixedTokens(make_token(sandbox_account, sandbox_owner, scopes="user:read:user")))
    with pytest.raises(Forbidden) as caught:
        client.list_users()
    assert "scope" in caught.value.message
    assert "scim2" in caught.value.detail


def test_sso_disabled_is_invalid_with_zooms_sentence(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    account = make_sandbox_account(sso_enabled=False)
    owner = make_sandbox_user(account, role=Role.OWNER)
    with pytest.raises(Invalid) as caught:
        make_client(FixedTokens(make_token(account, owner))).list_users()
    assert caught.value.message == "Zoom rejected the request: Account has not enabled Single Sign-On."


def test_zoom_429_is_rate_limited_and_slows_our_limiter(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    account = make_sandbox_account(rate_limits_enabled=True, plan="free")
    owner = make_sandbox_user(account, role=Role.OWNER)
    token = make_token(account, owner)
    client = make_client(FixedTokens(token), plan="free", wait_for_slot=False)
    # Another app on the account spends Zoom's Medium budget (2/s on Free) before we call.
    with httpx2.Client(
        transport=sandbox_transport(), base_url="http://sandbox.test", headers={"Authorization": f"Bearer {token}"}
    ) as other_app:
        answers = [other_app.get("/scim2/Users").status_code for _ in range(3)]
    assert 429 in answers
    with pytest.raises(RateLimited) as first:
        client.list_users()
    assert first.value.status == 429
    assert first.value.retry_after > 0
    # Our limiter now holds this bucket back instead of letting the next call hit Zoom.
    with pytest.raises(RateLimited) as second:
        client.list_users()
    assert second.value.status == 429
    assert "try again" in second.value.message


def _network(error: type[httpx2.TransportError]) -> httpx2.BaseTransport:
    # Stands for the network between us and Zoom; the in-process WSGI transport cannot time out.
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise error("simulated", request=request)

    return httpx2.MockTransport(handler)


@pytest.mark.parametrize(
    ("error", "words"),
    [(httpx2.ReadTimeout, "did not answer in time"), (httpx2.ConnectError, "cannot be reached")],
)
def test_timeouts_and_connection_errors_are_unavailable(
    error: type[httpx2.TransportError],
    words: str,
    make_client: Callable[..., ZoomClient],
) -> None:
    client = make_client(FixedTokens("token-that-must-not-leak"), transport=_network(error))
    with pytest.raises(Unavailable) as caught:
        client.get_user("abc")
    assert words in caught.value.message
    assert "token-that-must-not-leak" not in str(caught.value) + caught.value.detail


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hung Zoom, on a real socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_real_read_timeout_is_unavailable(silent_server: str) -> None:
    # The in-process WSGI transport ignores timeouts, so this one goes over a real socket.
    client = ZoomClient(
        api_base_url=silent_server,
        account_id=f"test-{uuid.uuid4().hex}",
        plan="business",
        tokens=FixedTokens("t"),
        limiter=default_limiter(),
        wait_for_slot=True,
        transport=httpx2.HTTPTransport(),
        timeout=0.2,
    )
    with pytest.raises(Unavailable) as caught:
        client.get_user("abc")
    assert "did not answer in time" in caught.value.message
    assert caught.value.detail == "ReadTimeout"


def test_unreadable_success_is_unavailable(make_client: Callable[..., ZoomClient]) -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(Unavailable) as caught:
        make_client(FixedTokens("t"), transport=transport).get_user("abc")
    assert "cannot read" in caught.value.message


NOW = datetime(2025, 1, 19, 23, 59, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "2025-01-20T00:00:00Z"}, 60.0),
        ({"Retry-After": "Mon, 20 Jan 2025 00:00:30 GMT"}, 90.0),
        ({"Retry-After": "2024-01-01T00:00:00Z"}, 0.0),
        ({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 5)}, 5.0),
        ({"Retry-After": "3", "X-RateLimit-Reset": str(int(NOW.timestamp()) + 50)}, 3.0),
        ({}, None),
        ({"Retry-After": "soon"}, None),
        # Numbers that cannot be waited for, and waits beyond Zoom's longest (daily) limit.
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "1e400"}, None),
        ({"X-RateLimit-Reset": "Infinity"}, None),
        ({"Retry-After": "2099-01-01T00:00:00Z"}, 86_400.0),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(httpx2.Headers(headers), now=NOW) == seconds


def test_429_without_headers_waits_one_second(make_client: Callable[..., ZoomClient]) -> None:
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(429, json={"code": 429, "message": "Too Many Requests"})
    )
    with pytest.raises(RateLimited) as caught:
        make_client(FixedTokens("t"), transport=transport).get_user("abc")
    assert caught.value.retry_after == 1.0
    assert caught.value.detail == "Too Many Requests"


def test_429_with_an_infinite_retry_after_is_rate_limited(make_client: Callable[..., ZoomClient]) -> None:
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(429, headers={"Retry-After": "Infinity"}, json={"code": 429, "message": "x"})
    )
    with pytest.raises(RateLimited) as caught:
        make_client(FixedTokens("t"), transport=transport).get_user("abc")
    assert caught.value.retry_after == 1.0
    assert "try again in 1 second" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "x" * 200_000, "status": 400},
        {"code": 300, "message": "x" * 200_000},
    ],
)
def test_a_huge_error_detail_is_cut_short(make_client: Callable[..., ZoomClient], body: dict[str, Any]) -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(400, json=body))
    with pytest.raises(Invalid) as caught:
        make_client(FixedTokens("t"), transport=transport).get_user("abc")
    assert caught.value.message.startswith("Zoom rejected the request: xxx")
    assert len(caught.value.message) < 600
    assert len(caught.value.detail) <= 500


def test_a_daily_limit_says_how_long_in_hours(make_client: Callable[..., ZoomClient]) -> None:
    # Zoom's daily 429 names the next UTC midnight; the admin reads hours, not 40,000 seconds.
    midnight = (datetime.now(tz=UTC) + timedelta(hours=11, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(
            429,
            headers={"Retry-After": midnight, "X-RateLimit-Type": "Daily-limit"},
            json={"code": 429, "message": "You have reached the maximum daily rate limit for this API."},
        )
    )
    with pytest.raises(RateLimited) as caught:
        make_client(FixedTokens("t"), transport=transport).get_user("abc")
    assert caught.value.message == "Zoom's rate limit for this account is used up; try again in 12 hours."


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "1 second"),
        (1, "1 second"),
        (40.1, "41 seconds"),
        (119, "119 seconds"),
        (120, "2 minutes"),
        (7199, "120 minutes"),
        (7200, "2 hours"),
        (41_400, "12 hours"),
    ],
)
def test_waits_are_said_in_words(seconds: float, words: str) -> None:
    assert wait_in_words(seconds) == words
