"""`RateLimiter.usage`: what an account's budgets look like right now, read without spending anything."""

from __future__ import annotations

import pytest
from redis import Redis

from tests.zoom.test_ratelimit import DAY, SteppedClock, account_id, clock, prefill_daily, rds, take_all
from zoomadmin.zoom.ratelimit import LabelUsage, RateLimiter

# The shared fixtures of the limiter's tests (real Redis, stepped clock, an account id of its own).
__all__ = ["account_id", "clock", "rds"]


def _by_label(usage: list[LabelUsage]) -> dict[str, LabelUsage]:
    return {item.label: item for item in usage}


def test_an_idle_account_has_its_whole_budget(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    usage = RateLimiter(rds, share=0.8, clock=clock).usage(account_id=account_id, plan="business")

    assert [item.label for item in usage] == ["Light", "Medium", "Heavy", "Resource-intensive"]
    light, medium, heavy, intensive = usage
    assert (light.in_window, light.allowed, light.blocked_for, light.slowed) == (0, 64, 0.0, False)
    # Business: no daily cap on Light and Medium; Heavy and Resource-intensive share 48,000 a day.
    assert (light.daily_used, light.daily_left, medium.daily_used) == (None, None, None)
    assert (heavy.daily_used, heavy.daily_left, heavy.budget.daily) == (0, 48_000, 48_000)
    assert intensive.budget.daily_group == heavy.budget.daily_group


def test_grants_in_the_window_and_todays_count_are_reported(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    today = int(clock.now()) // DAY
    prefill_daily(rds, account_id, "light", 1_000, day=today)  # free Light: 4,800 a day at 0.8
    for _ in range(2):
        limiter.acquire(account_id=account_id, plan="free", label="Light", wait=False)

    light = _by_label(limiter.usage(account_id=account_id, plan="free"))["Light"]
    assert (light.in_window, light.allowed) == (2, 3)
    assert (light.daily_used, light.daily_left) == (1_002, 3_798)

    # A second later the window is empty again; the day's count stays.
    clock.step(1.1)
    light = _by_label(limiter.usage(account_id=account_id, plan="free"))["Light"]
    assert (light.in_window, light.daily_used) == (0, 1_002)


def test_yesterdays_count_is_not_todays(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    prefill_daily(rds, account_id, "medium", 1_600, day=int(clock.now()) // DAY - 1)
    medium = _by_label(RateLimiter(rds, share=0.8, clock=clock).usage(account_id=account_id, plan="free"))["Medium"]
    assert (medium.daily_used, medium.daily_left) == (0, 1_600)


def test_a_429_shows_as_blocked_then_slowed_then_recovered(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, penalty_factor=0.5, recovery=0.1, clock=clock)
    limiter.penalize(account_id=account_id, plan="business", label="Light", retry_after=2.0)

    light = _by_label(limiter.usage(account_id=account_id, plan="business"))["Light"]
    assert light.blocked_for == pytest.approx(2.0)
    assert light.slowed

    clock.step(2.0)
    light = _by_label(limiter.usage(account_id=account_id, plan="business"))["Light"]
    assert (light.blocked_for, light.allowed) == (0.0, 32)  # 64 halved
    # What usage reports is what acquire grants.
    assert take_all(limiter, account_id, "business", "Light")[0] == 32

    clock.step(60)
    light = _by_label(limiter.usage(account_id=account_id, plan="business"))["Light"]
    assert (light.allowed, light.slowed) == (64, False)


def test_looking_spends_nothing(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    for _ in range(50):
        limiter.usage(account_id=account_id, plan="free")
    assert list(rds.scan_iter(match=f"zoomadmin:rl:{{{account_id}*")) == []
    assert take_all(limiter, account_id, "free", "Light")[0] == 3


def test_without_a_clock_usage_reads_redis_time(rds: Redis, account_id: str) -> None:
    limiter = RateLimiter(rds, share=1.0)
    limiter.acquire(account_id=account_id, plan="pro", label="Medium", wait=False)
    medium = _by_label(limiter.usage(account_id=account_id, plan="pro"))["Medium"]
    assert (medium.in_window, medium.allowed, medium.daily_used) == (1, 20, None)
