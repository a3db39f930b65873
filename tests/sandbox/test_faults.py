"""Injected latency, 5xx and timeouts, seen through the sandbox's real HTTP path."""

from __future__ import annotations

import random
from collections import Counter

import httpx2

from zoomadmin.sandbox.faults import latency_seconds
from zoomadmin.sandbox.models import SandboxAccount

ME = "/v2/users/me"


def _set(account: SandboxAccount, **knobs: object) -> None:
    SandboxAccount.objects.filter(pk=account.pk).update(**knobs)


def test_no_faults_by_default(scim: httpx2.Client) -> None:
    responses = [scim.get(ME) for _ in range(20)]
    assert {r.status_code for r in responses} == {200}


def test_error_rate_one_answers_zoom_shaped_5xx(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    _set(sandbox_account, error_rate=1.0)
    responses = [scim.get(ME) for _ in range(100)]
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {500, 502, 503}
    # Mostly 500, some 502/503 (weights 8:1:1; fewer than half 500s is practically impossible).
    assert statuses[500] > 50
    for response in responses:
        body = response.json()
        assert set(body) == {"code", "message"}
        assert body["code"] == response.status_code
        assert body["message"]
        # The request passed the rate limiter, so it carries its headers like any other answer.
        assert response.headers["X-RateLimit-Category"] == "Light"


def test_timeout_rate_one_hangs_then_answers_504(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    _set(sandbox_account, timeout_rate=1.0, timeout_hang_seconds=0.01, error_rate=1.0)
    response = scim.get(ME)
    assert response.status_code == 504
    assert response.json() == {"code": 504, "message": "Gateway timeout."}


def test_rate_zero_never_fails(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    _set(sandbox_account, timeout_rate=0.0, error_rate=0.0, latency_mean_ms=0, latency_jitter_ms=3)
    # Jitter larger than the mean would be a negative sleep (an exception) if it were not clamped.
    responses = [scim.get(ME) for _ in range(20)]
    assert {r.status_code for r in responses} == {200}
    assert responses[0].json()["account_id"] == sandbox_account.zoom_id


def test_latency_is_uniform_around_the_mean_and_never_negative(sandbox_account: SandboxAccount) -> None:
    sandbox_account.latency_mean_ms = 20
    sandbox_account.latency_jitter_ms = 30
    draws = [latency_seconds(sandbox_account, random.Random(seed)) for seed in range(500)]
    assert min(draws) == 0.0  # the part of the range below zero is clamped
    assert max(draws) <= 0.050
    assert max(draws) > 0.040
    sandbox_account.latency_jitter_ms = 0
    assert latency_seconds(sandbox_account, random.Random(1)) == 0.020


def test_faults_come_after_the_rate_limit(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    # Zoom's order: a request the limiter refuses is a 429, never an injected 5xx.
    _set(sandbox_account, error_rate=1.0, rate_limits_enabled=True, plan="free")
    statuses = [scim.get(ME).status_code for _ in range(12)]
    assert 429 in statuses
    assert set(statuses) <= {429, 500, 502, 503}
