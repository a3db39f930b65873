"""The shared Zoom rate limiter, against a real Redis (REDIS_URL or the embedded one).

Each test uses its own Zoom account id, so tests never share buckets. Time is a `SteppedClock`
given to the limiter: it stands still while a test takes slots and moves only when the test (or
the limiter's own wait) steps it, so every count and every wait is exact.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from zoomadmin.redis import redis_client
from zoomadmin.zoom.errors import RateLimited
from zoomadmin.zoom.plans import plan_budget
from zoomadmin.zoom.ratelimit import RateLimiter, default_limiter

DAY = 86_400


# The clock starts at 23:59:00 UTC tomorrow: a minute before a daily reset, and in the future, so
# keys that expire at times on this clock outlive the test in the real Redis.
START = (int(time.time()) // DAY + 2) * DAY - 60.0


class SteppedClock:
    """The limiter's clock in these tests: time moves only by `step` and by the limiter's `sleep`."""

    def __init__(self, start: float = START) -> None:
        self.time = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds

    def step(self, seconds: float) -> None:
        self.time += seconds


@pytest.fixture
def rds() -> Redis:
    return redis_client()


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def account_id(rds: Redis) -> Iterator[str]:
    account_id = f"test-{uuid.uuid4().hex}"
    yield account_id
    # Keys on the stepped clock expire a day or two from now: do not leave them behind.
    for key in rds.scan_iter(match=f"zoomadmin:rl:{{{account_id}*"):
        rds.delete(key)


def take_all(limiter: RateLimiter, account_id: str, plan: str, label: str) -> tuple[int, RateLimited]:
    """Acquire without waiting until refused: how many slots were free, and the refusal."""
    granted = 0
    while True:
        try:
            limiter.acquire(account_id=account_id, plan=plan, label=label, wait=False)
        except RateLimited as refusal:
            return granted, refusal
        granted += 1
        assert granted <= 1000, "the limiter never refused"


def prefill_daily(rds: Redis, account_id: str, group: str, count: int, *, day: int) -> None:
    """Pretend `count` requests of the daily group were made on UTC day number `day`."""
    rds.hset(f"zoomadmin:rl:{{{account_id}}}:day:{group}", mapping={"day": day, "count": count})
    rds.expire(f"zoomadmin:rl:{{{account_id}}}:day:{group}", 4 * DAY)


# (plan, label, share) -> (requests per window, window seconds, daily cap)
BUDGETS = {
    ("free", "Light", 0.8): (3, 1, 4_800),
    ("free", "Medium", 0.8): (1, 1, 1_600),
    ("free", "Heavy", 0.8): (1, 1, 800),
    ("free", "Resource-intensive", 0.8): (8, 60, 24_000),
    ("pro", "Light", 0.8): (24, 1, None),
    ("pro", "Medium", 0.8): (16, 1, None),
    ("pro", "Heavy", 0.8): (8, 1, 24_000),
    ("pro", "Resource-intensive", 0.8): (8, 60, 24_000),
    ("business", "Light", 0.8): (64, 1, None),
    ("business", "Medium", 0.8): (48, 1, None),
    ("business", "Heavy", 0.8): (32, 1, 48_000),
    ("business", "Resource-intensive", 0.8): (16, 60, 48_000),
    ("free", "Light", 1.0): (4, 1, 6_000),
    ("free", "Resource-intensive", 1.0): (10, 60, 30_000),
    ("pro", "Heavy", 1.0): (10, 1, 30_000),
    ("business", "Light", 1.0): (80, 1, None),
    ("business", "Resource-intensive", 1.0): (20, 60, 60_000),
    ("free", "Light", 0.5): (2, 1, 3_000),
    ("free", "Heavy", 0.5): (1, 1, 500),
    ("pro", "Light", 0.5): (15, 1, None),
    ("pro", "Resource-intensive", 0.5): (5, 60, 15_000),
    ("business", "Medium", 0.5): (30, 1, None),
    ("business", "Heavy", 0.5): (20, 1, 30_000),
    # Never below one request per window or per day.
    ("free", "Medium", 0.01): (1, 1, 20),
    ("pro", "Light", 0.01): (1, 1, None),
    ("business", "Resource-intensive", 0.01): (1, 60, 600),
    ("free", "Heavy", 0.0001): (1, 1, 1),
}


@pytest.mark.parametrize(("plan", "label", "share"), list(BUDGETS))
def test_budget_is_zooms_numbers_times_share(plan: str, label: str, share: float) -> None:
    budget = plan_budget(plan=plan, label=label, share=share)
    assert (budget.per_window, budget.window, budget.daily) == BUDGETS[(plan, label, share)]


def test_heavy_and_resource_intensive_share_a_daily_cap_on_paid_plans_only() -> None:
    for plan in ("pro", "business"):
        heavy = plan_budget(plan=plan, label="Heavy", share=0.8)
        intensive = plan_budget(plan=plan, label="Resource-intensive", share=0.8)
        assert heavy.daily_group == intensive.daily_group
    free_heavy = plan_budget(plan="free", label="Heavy", share=0.8)
    free_intensive = plan_budget(plan="free", label="Resource-intensive", share=0.8)
    assert free_heavy.daily_group != free_intensive.daily_group


def test_labels_and_plans_are_read_leniently_and_unknown_ones_refused() -> None:
    assert plan_budget(plan="Business", label="resource_intensive", share=1.0).per_window == 20
    assert plan_budget(plan="enterprise", label="LIGHT", share=1.0).per_window == 80
    with pytest.raises(ValueError, match="plan"):
        plan_budget(plan="platinum", label="Light", share=0.8)
    with pytest.raises(ValueError, match="label"):
        plan_budget(plan="pro", label="Featherweight", share=0.8)
    with pytest.raises(ValueError, match="share"):
        plan_budget(plan="pro", label="Light", share=1.5)


@pytest.mark.parametrize(
    ("plan", "label", "share", "expected"),
    [
        ("free", "Light", 0.8, 3),
        ("free", "Medium", 0.8, 1),
        ("pro", "Medium", 0.8, 16),
        ("pro", "Light", 0.5, 15),
        ("business", "Light", 0.8, 64),
        ("business", "Heavy", 1.0, 40),
        ("free", "Resource-intensive", 0.8, 8),
    ],
)
def test_fail_fast_serves_exactly_the_budget_then_says_when(
    rds: Redis, clock: SteppedClock, account_id: str, plan: str, label: str, share: float, expected: int
) -> None:
    limiter = RateLimiter(rds, share=share, clock=clock)
    granted, refusal = take_all(limiter, account_id, plan, label)
    assert granted == expected
    # Every slot was taken at the same instant: the first frees one whole window (plus margin) later.
    window = plan_budget(plan=plan, label=label, share=share).window
    assert refusal.retry_after == pytest.approx(window + limiter.margin)
    assert refusal.status == 429
    assert refusal.message.startswith("Zoom's rate limit for this account is busy; try again in ")


def test_a_slot_frees_when_its_grant_leaves_the_window(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)  # free Light: 3 per 1 s (+ 0.05 s margin)
    limiter.acquire(account_id=account_id, plan="free", label="Light", wait=False)
    clock.step(0.5)
    assert take_all(limiter, account_id, "free", "Light")[0] == 2
    clock.step(0.5)
    # 1.0 s after the first grant it is still inside the widened window: nothing frees yet.
    assert take_all(limiter, account_id, "free", "Light")[1].retry_after == pytest.approx(0.05)
    clock.step(0.05)
    assert take_all(limiter, account_id, "free", "Light")[0] == 1


def test_buckets_are_per_account_and_per_label(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    assert take_all(limiter, account_id, "free", "Light")[0] == 3
    assert take_all(limiter, account_id, "free", "Medium")[0] == 1
    assert take_all(limiter, f"{account_id}-other", "free", "Light")[0] == 3


def test_refusal_message_rounds_the_wait_up_in_words(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    take_all(limiter, account_id, "free", "Heavy")
    refusal = take_all(limiter, account_id, "free", "Heavy")[1]
    assert str(refusal) == "Zoom's rate limit for this account is busy; try again in 2 seconds."
    take_all(limiter, account_id, "free", "Resource-intensive")
    refusal = take_all(limiter, account_id, "free", "Resource-intensive")[1]
    assert str(refusal) == "Zoom's rate limit for this account is busy; try again in 61 seconds."


def test_default_limiter_uses_the_configured_share(settings: Any, clock: SteppedClock, account_id: str) -> None:
    settings.ZOOM_RATE_LIMIT_SHARE = 0.25
    limiter = default_limiter()
    limiter.clock = clock
    assert take_all(limiter, account_id, "pro", "Light")[0] == 7  # 30/s x 0.25, rounded down


def test_waiting_acquire_gets_the_next_slot_no_sooner_than_it_frees(
    rds: Redis, clock: SteppedClock, account_id: str
) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    take_all(limiter, account_id, "free", "Heavy")
    refusal = take_all(limiter, account_id, "free", "Heavy")[1]
    started = clock.now()
    limiter.acquire(account_id=account_id, plan="free", label="Heavy", wait=True, max_wait=5)
    # It slept once, until the slot freed (and a hair more), not a full extra round.
    assert clock.slept == [pytest.approx(refusal.retry_after + 0.0005)]
    assert clock.now() - started >= refusal.retry_after
    # The slot it waited for is taken: the next one is a full window away again.
    assert take_all(limiter, account_id, "free", "Heavy")[1].retry_after == pytest.approx(1.05)


def test_waiting_acquire_gives_up_when_the_slot_is_beyond_max_wait(
    rds: Redis, clock: SteppedClock, account_id: str
) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    take_all(limiter, account_id, "free", "Heavy")
    with pytest.raises(RateLimited) as refusal:
        limiter.acquire(account_id=account_id, plan="free", label="Heavy", wait=True, max_wait=0.2)
    assert refusal.value.retry_after == pytest.approx(1.05)
    assert clock.slept == []  # refused at once, not after sleeping up to max_wait


def test_daily_cap_refuses_until_midnight_utc(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    today = int(clock.now()) // DAY
    prefill_daily(rds, account_id, "light", 4_798, day=today)  # free Light: 6,000/day x 0.8 = 4,800
    granted, refusal = take_all(limiter, account_id, "free", "Light")
    assert granted == 2  # the per-second budget (3) would have allowed one more
    assert refusal.retry_after == pytest.approx(60.0)  # the clock reads 23:59:00 UTC
    assert refusal.message == "Zoom's daily rate limit for this account is used up; try again in 60 seconds."
    with pytest.raises(RateLimited):
        limiter.acquire(account_id=account_id, plan="free", label="Light", wait=True, max_wait=1)
    assert clock.slept == []
    # Other labels have their own daily count on the free plan.
    assert take_all(limiter, account_id, "free", "Medium")[0] == 1
    # At midnight the day's count starts again.
    clock.step(60)
    assert take_all(limiter, account_id, "free", "Light")[0] == 3


def test_yesterdays_count_does_not_hold_today_back(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    prefill_daily(rds, account_id, "light", 4_800, day=int(clock.now()) // DAY - 1)
    assert take_all(limiter, account_id, "free", "Light")[0] == 3


def test_heavy_and_resource_intensive_spend_one_daily_cap_on_pro(
    rds: Redis, clock: SteppedClock, account_id: str
) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    today = int(clock.now()) // DAY
    prefill_daily(rds, account_id, "heavy+resource-intensive", 23_999, day=today)  # 30,000 x 0.8 = 24,000
    granted, refusal = take_all(limiter, account_id, "pro", "Heavy")
    assert granted == 1
    assert "daily" in refusal.message
    intensive = take_all(limiter, account_id, "pro", "Resource-intensive")
    assert intensive[0] == 0
    assert "daily" in intensive[1].message
    assert take_all(limiter, account_id, "pro", "Light")[0] == 24  # no daily cap on Light


def test_penalize_blocks_until_retry_after_then_serves_less(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    limiter.penalize(account_id=account_id, plan="business", label="Light", retry_after=0.3)
    granted, refusal = take_all(limiter, account_id, "business", "Light")
    assert granted == 0
    assert refusal.retry_after == pytest.approx(0.3)
    assert refusal.detail == "slowed down after Zoom answered 429"
    clock.step(0.3)
    assert take_all(limiter, account_id, "business", "Light")[0] == 51  # 80 % of 64 (51.2)


def test_several_429s_at_once_halve_the_rate_once(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, penalty_factor=0.5, clock=clock)
    for _ in range(3):
        limiter.penalize(account_id=account_id, plan="business", label="Medium", retry_after=None)
    assert take_all(limiter, account_id, "business", "Medium")[0] == 24  # 48 halved once


def test_a_429_a_window_later_halves_the_rate_again(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, penalty_factor=0.5, recovery=0.01, clock=clock)
    limiter.penalize(account_id=account_id, plan="business", label="Medium", retry_after=None)
    clock.step(1.05)
    # Recovered 1% of 48 in that window (24.48), then halved: 12.24, so 12 slots.
    limiter.penalize(account_id=account_id, plan="business", label="Medium", retry_after=None)
    assert take_all(limiter, account_id, "business", "Medium")[0] == 12


def test_penalize_never_goes_below_one_request_per_window(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, penalty_factor=0.5, clock=clock)
    limiter.penalize(account_id=account_id, plan="free", label="Heavy", retry_after=None)
    assert take_all(limiter, account_id, "free", "Heavy")[0] == 1


def test_rate_recovers_gradually_after_a_429(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    # Default recovery: +10% of the budget per clean window.
    limiter = RateLimiter(rds, share=0.8, penalty_factor=0.5, clock=clock)
    limiter.penalize(account_id=account_id, plan="business", label="Light", retry_after=None)
    assert take_all(limiter, account_id, "business", "Light")[0] == 32
    clock.step(1.05)  # the whole window (1 s + margin) passes: the first round is forgotten
    # One window later: 32 + 6.4, not yet the full 64.
    assert take_all(limiter, account_id, "business", "Light")[0] == 38


def test_a_lone_429_costs_the_default_limiter_two_windows(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)  # defaults: 80 % after a 429, +10 % per clean window
    limiter.penalize(account_id=account_id, plan="business", label="Light", retry_after=None)
    assert take_all(limiter, account_id, "business", "Light")[0] == 51
    clock.step(1.05)
    assert take_all(limiter, account_id, "business", "Light")[0] == 57  # 51.2 + 6.4
    clock.step(1.05)
    assert take_all(limiter, account_id, "business", "Light")[0] == 64


def test_rate_returns_to_the_full_budget(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, penalty_factor=0.5, recovery=1.0, clock=clock)
    limiter.penalize(account_id=account_id, plan="pro", label="Light", retry_after=None)
    assert take_all(limiter, account_id, "pro", "Light")[0] == 12
    clock.step(1.05)  # the whole window (1 s + margin) passes: the first round is forgotten
    assert take_all(limiter, account_id, "pro", "Light")[0] == 24
    clock.step(1.05)  # and it does not overshoot the budget
    assert take_all(limiter, account_id, "pro", "Light")[0] == 24


def test_penalty_is_seen_by_every_process_and_only_for_its_bucket(clock: SteppedClock, account_id: str) -> None:
    from django.conf import settings

    # Two limiters on two separate connections stand for two processes (sharing one clock, as
    # processes share Redis TIME).
    here = RateLimiter(Redis.from_url(settings.REDIS_URL), share=0.8, clock=clock)
    there = RateLimiter(Redis.from_url(settings.REDIS_URL), share=0.8, clock=clock)
    here.penalize(account_id=account_id, plan="pro", label="Medium", retry_after=30)
    refusal = take_all(there, account_id, "pro", "Medium")[1]
    assert refusal.retry_after == pytest.approx(30.0)
    assert refusal.message == "Zoom's rate limit for this account is busy; try again in 30 seconds."
    assert take_all(there, account_id, "pro", "Light")[0] == 24


def test_a_longer_retry_after_is_not_shortened_by_a_later_429(rds: Redis, clock: SteppedClock, account_id: str) -> None:
    limiter = RateLimiter(rds, share=0.8, clock=clock)
    limiter.penalize(account_id=account_id, plan="pro", label="Heavy", retry_after=20)
    clock.step(5)
    limiter.penalize(account_id=account_id, plan="pro", label="Heavy", retry_after=1)
    assert take_all(limiter, account_id, "pro", "Heavy")[1].retry_after == pytest.approx(15.0)


def test_without_a_clock_the_limiter_uses_redis_time(rds: Redis, account_id: str) -> None:
    # Production: no clock, decisions timed by Redis TIME; keys expire by themselves.
    limiter = RateLimiter(rds, share=0.8)
    granted, refusal = take_all(limiter, account_id, "free", "Light")
    assert granted == 3
    assert 0 < refusal.retry_after <= 1.05
    ttl = rds.pttl(f"zoomadmin:rl:{{{account_id}}}:light:log")
    assert 0 < ttl <= 2_051  # window + 1 s, rounded up to a whole millisecond
