"""The sandbox's rate limiter: Zoom's per-label limits, daily caps, headers and knobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from tests.conftest import SANDBOX_BASE_URL
from zoomadmin.redis import redis_client
from zoomadmin.sandbox import ARRIVED_US, ratelimit
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser
from zoomadmin.sandbox.ratelimit import HEAVY, LIGHT, MEDIUM, RESOURCE_INTENSIVE, consume
from zoomadmin.sandbox.transport import SandboxWSGIHandler

PER_SECOND = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY = (
    "You have reached the maximum daily rate limit for this API. "
    "Refer to the response header for details on when you can make another request."
)

MakeAccount = Callable[..., SandboxAccount]


def _assert_sliding_windows(spans: list[tuple[float, float]], limit: int) -> None:
    """No `limit + 1` served requests were decided within one second.

    Each span is (sent, answered) on the monotonic clock; the limiter decided somewhere inside it.
    Requests sent no earlier than request j and answered less than a second after j was sent were
    all decided within one second, so there must never be more than `limit` of them.
    """
    spans = sorted(spans)
    for j, (first_sent, _) in enumerate(spans):
        within = sum(1 for _, answered in spans[j:] if answered < first_sent + 1.0)
        assert within <= limit, f"{within} requests served within one second (limit {limit})"


def test_burst_past_the_limit_is_refused_and_counted_exactly(make_sandbox_account: MakeAccount) -> None:
    # Resource-intensive counts per minute, so a burst falls in one window however slow the machine.
    account = make_sandbox_account(plan="free", rate_limits_enabled=True)
    decisions = [consume(account, RESOURCE_INTENSIVE, endpoint="GET test") for _ in range(15)]

    assert [d.allowed for d in decisions] == [True] * 10 + [False] * 5
    assert [d.headers["X-RateLimit-Remaining"] for d in decisions[:10]] == [str(n) for n in range(9, -1, -1)]
    assert decisions[0].headers == {
        "X-RateLimit-Category": "Resource-intensive",
        "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "9",
    }
    refused = decisions[-1]
    assert refused.message == PER_SECOND
    assert refused.headers == {
        "X-RateLimit-Category": "Resource-intensive",
        "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
    }
    # Refused requests did not eat into the day.
    assert ratelimit.daily_usage(account)["Resource-intensive"] == (10, 30_000)


def test_the_window_counts_when_requests_arrived_not_when_they_were_decided(
    make_sandbox_account: MakeAccount,
) -> None:
    # Free plan, Light: 4 per second. Four requests that arrived 1.5 s ago and were decided only now
    # (a busy server) are out of the window of one arriving now, as at Zoom's edge.
    account = make_sandbox_account(plan="free", rate_limits_enabled=True)
    now_us = time.time_ns() // 1000
    late = [consume(account, LIGHT, endpoint="GET test", arrived_us=now_us - 1_500_000) for _ in range(4)]
    assert [d.allowed for d in late] == [True] * 4
    assert consume(account, LIGHT, endpoint="GET test", arrived_us=now_us).allowed
    # Four more that arrive within the same second as that one: only three fit.
    same_second = [consume(account, LIGHT, endpoint="GET test", arrived_us=now_us + 1000) for _ in range(4)]
    assert [d.allowed for d in same_second] == [True, True, True, False]


def test_per_second_limit_holds_in_every_sliding_second(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="free", rate_limits_enabled=True)
    spans: list[tuple[float, float]] = []
    refused = 0
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        sent = time.monotonic()
        decision = consume(account, LIGHT, endpoint="GET test")
        if decision.allowed:
            spans.append((sent, time.monotonic()))
        else:
            refused += 1
            assert decision.headers["X-RateLimit-Limit"] == "4"
    # 4 per second over 2.5 s: at least the first second's 4 and the next second's.
    assert len(spans) >= 8
    assert refused > 0
    _assert_sliding_windows(spans, 4)


def test_eight_threads_never_exceed_the_limit_in_any_second(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="business", rate_limits_enabled=True)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)
    deadline = time.monotonic() + 2.5

    def hammer() -> None:
        start.wait()
        while time.monotonic() < deadline:
            sent = time.monotonic()
            decision = consume(account, MEDIUM, endpoint="GET /scim2/Users")
            if decision.allowed:
                answered = time.monotonic()
                with lock:
                    spans.append((sent, answered))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(spans) >= 60
    _assert_sliding_windows(spans, 60)


def test_free_daily_cap_answers_429_until_midnight_utc(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="free", rate_limits_enabled=True)
    ratelimit.daily_usage_set(account=account, label=LIGHT, used=5_999)

    last = consume(account, LIGHT, endpoint="GET test")
    assert last.allowed
    # The day has less left than the second: the tighter limit is the one reported.
    assert last.headers["X-RateLimit-Type"] == "Daily-limit"
    assert last.headers["X-RateLimit-Limit"] == "6000"
    assert last.headers["X-RateLimit-Remaining"] == "0"

    refused = consume(account, LIGHT, endpoint="GET test")
    assert not refused.allowed
    assert refused.message == DAILY
    assert refused.headers["X-RateLimit-Category"] == "Light"
    assert refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert refused.headers["X-RateLimit-Limit"] == "6000"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    retry_at = datetime.strptime(refused.headers["Retry-After"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    now = datetime.now(UTC)
    assert (retry_at.hour, retry_at.minute, retry_at.second) == (0, 0, 0)
    assert now < retry_at <= now + timedelta(days=1, seconds=5)

    # Other labels of a free account keep their own daily count.
    assert consume(account, MEDIUM, endpoint="GET test").allowed


def test_pro_heavy_and_resource_intensive_share_one_daily_cap(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="pro", rate_limits_enabled=True)
    ratelimit.daily_usage_set(account=account, label=HEAVY, used=29_999)

    assert consume(account, RESOURCE_INTENSIVE, endpoint="POST test").allowed
    heavy = consume(account, HEAVY, endpoint="POST test")
    assert not heavy.allowed
    assert heavy.headers["X-RateLimit-Limit"] == "30000"
    assert heavy.headers["X-RateLimit-Type"] == "Daily-limit"
    # Light has no daily cap on Pro.
    light = consume(account, LIGHT, endpoint="GET test")
    assert light.allowed
    assert light.headers["X-RateLimit-Type"] == "QPS"
    assert light.headers["X-RateLimit-Limit"] == "30"
    assert ratelimit.daily_usage(account) == {"Heavy+Resource-intensive": (30_000, 30_000)}


def test_business_daily_cap_is_sixty_thousand(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="business", rate_limits_enabled=True)
    ratelimit.daily_usage_set(account=account, label=RESOURCE_INTENSIVE, used=60_000)
    refused = consume(account, HEAVY, endpoint="DELETE test")
    assert not refused.allowed
    assert refused.headers["X-RateLimit-Limit"] == "60000"
    with pytest.raises(ValueError, match="no daily cap"):
        ratelimit.daily_usage_set(account=account, label=LIGHT, used=1)


def test_headers_quirk_drops_type_and_retry_after(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="free", rate_limits_enabled=True, ratelimit_headers_quirk=True)
    ratelimit.daily_usage_set(account=account, label=HEAVY, used=1_000)
    refused = consume(account, HEAVY, endpoint="GET test")
    assert not refused.allowed
    assert refused.message == DAILY
    assert refused.headers == {
        "X-RateLimit-Category": "Heavy",
        "X-RateLimit-Limit": "1000",
        "X-RateLimit-Remaining": "0",
    }


def test_disabled_limits_always_serve_and_still_send_headers(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="free", rate_limits_enabled=False)
    decisions = [consume(account, HEAVY, endpoint="GET test") for _ in range(30)]
    assert all(d.allowed for d in decisions)
    assert decisions[-1].headers == {
        "X-RateLimit-Category": "Heavy",
        "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": "1",
        "X-RateLimit-Remaining": "1",
    }


def test_legacy_mode_allows_one_request_per_second_per_endpoint(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="business", rate_limits_enabled=True, legacy_scim_one_rps=True)
    assert consume(account, LIGHT, endpoint="GET user_detail").allowed
    second = consume(account, LIGHT, endpoint="GET user_detail")
    assert not second.allowed
    assert second.message == PER_SECOND
    assert second.headers["X-RateLimit-Limit"] == "1"
    assert second.headers["X-RateLimit-Type"] == "QPS"
    # Another endpoint with the same label has its own second.
    assert consume(account, LIGHT, endpoint="PATCH user_detail").allowed


def test_state_lives_in_expiring_redis_keys(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(plan="free", rate_limits_enabled=True)
    consume(account, LIGHT, endpoint="GET test")
    keys = list(redis_client().scan_iter(match=f"sandbox:rl:*{account.zoom_id}*"))
    assert len(keys) == 2  # the Light window and the Light day
    for key in keys:
        assert 0 < redis_client().ttl(key) <= 25 * 3600


def test_unknown_label_is_a_programming_error(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(rate_limits_enabled=True)
    with pytest.raises(ValueError, match="unknown rate-limit label"):
        consume(account, "Feather", endpoint="GET test")


def test_retry_after_is_iso_8601_utc() -> None:
    assert ratelimit.retry_after_header(1_737_331_200) == "2025-01-20T00:00:00Z"


# Through the sandbox's HTTP path: the frame every API endpoint runs in.


def test_http_burst_gets_zoom_429s_and_never_more_than_the_limit_per_second(
    scim: httpx2.Client, sandbox_account: SandboxAccount
) -> None:
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(rate_limits_enabled=True, plan="free")
    spans: list[tuple[float, float]] = []
    refused: list[httpx2.Response] = []
    for _ in range(12):
        sent = time.monotonic()
        response = scim.get("/v2/users/me")
        if response.status_code == 200:
            spans.append((sent, time.monotonic()))
            assert response.headers["X-RateLimit-Category"] == "Light"
            assert response.headers["X-RateLimit-Type"] == "QPS"
            assert response.headers["X-RateLimit-Limit"] == "4"
            assert int(response.headers["X-RateLimit-Remaining"]) in range(4)
        else:
            refused.append(response)

    assert refused
    assert refused[0].status_code == 429
    assert refused[0].json() == {"code": 429, "message": PER_SECOND}
    assert refused[0].headers["X-RateLimit-Category"] == "Light"
    assert refused[0].headers["X-RateLimit-Type"] == "QPS"
    assert refused[0].headers["X-RateLimit-Limit"] == "4"
    assert refused[0].headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in refused[0].headers
    _assert_sliding_windows(spans, 4)


def test_the_server_stamps_each_request_as_it_enters(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoomadmin import wsgi

    seen: list[int] = []

    def django_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ[ARRIVED_US])
        start_response("204 No Content", [])
        return []

    monkeypatch.setattr(wsgi, "_django", django_app)
    before = time.time_ns() // 1000
    with httpx2.Client(transport=httpx2.WSGITransport(app=wsgi.application), base_url=SANDBOX_BASE_URL) as client:
        assert client.get("/").status_code == 204
    assert before <= seen[0] <= time.time_ns() // 1000


def test_http_requests_count_from_when_the_server_handed_them_over(
    sandbox_account: SandboxAccount, sandbox_owner: SandboxUser, make_token: Callable[..., str]
) -> None:
    """Four requests the server took in 1.5 s ago (answered only now: a busy server) are out of the
    window of four it takes in now; a fifth now is one too many (free plan, Light: 4 per second)."""
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(rate_limits_enabled=True, plan="free")
    headers = {"Authorization": f"Bearer {make_token(sandbox_account, sandbox_owner)}"}
    handler = SandboxWSGIHandler()

    def taken_in(at_us: int | None) -> httpx2.Client:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if at_us is not None:
                environ[ARRIVED_US] = at_us
            return handler(environ, start_response)

        return httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url=SANDBOX_BASE_URL, headers=headers)

    with taken_in(time.time_ns() // 1000 - 1_500_000) as late:
        assert [late.get("/v2/users/me").status_code for _ in range(4)] == [200] * 4
    with taken_in(None) as now:
        assert [now.get("/v2/users/me").status_code for _ in range(5)] == [200] * 4 + [429]


def test_http_daily_429_carries_retry_after(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(rate_limits_enabled=True, plan="free")
    sandbox_account.refresh_from_db()
    ratelimit.daily_usage_set(account=sandbox_account, label=LIGHT, used=6_000)
    response = scim.get("/v2/users/me")
    assert response.status_code == 429
    assert response.json() == {"code": 429, "message": DAILY}
    assert response.headers["X-RateLimit-Type"] == "Daily-limit"
    assert response.headers["Retry-After"].endswith("T00:00:00Z")


def test_http_legacy_mode_limits_each_scim_endpoint(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(rate_limits_enabled=True, legacy_scim_one_rps=True)
    assert scim.get("/scim2/Users").status_code == 200
    again = scim.get("/scim2/Users")
    assert again.status_code == 429
    assert again.headers["X-RateLimit-Limit"] == "1"
    assert scim.get("/scim2/Groups").status_code == 200
