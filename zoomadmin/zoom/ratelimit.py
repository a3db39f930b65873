"""The rate limiter every Zoom call goes through, shared by all web and worker processes via Redis.

Zoom limits each account per rate-limit label (Light, Medium, Heavy, Resource-intensive) per second
(per minute for Resource-intensive), plus daily caps on some plans; every app on the account shares
those numbers. We take `ZOOM_RATE_LIMIT_SHARE` of them (see `plans.py`) and enforce it here.

How, and why this way:

- **Sliding log**, not a token bucket: a bucket of capacity N refilled at N/s can serve 2N inside one
  sliding second (a full bucket drained at the end of one second plus the refill). The log keeps the
  grant times of the last window and grants only while fewer than N are younger than the window, so
  *no* window of that length, wherever it starts, ever holds more than N grants. The window is
  widened by `margin` so that the varying delay between our grant and the request's arrival at Zoom
  cannot squeeze N+1 requests into one of Zoom's windows.
- **One Lua script per decision**, timed with Redis `TIME`: atomic across processes, one clock for
  all of them, one round trip per attempt. (A `Clock` given to the limiter replaces `TIME` and the
  waits, so tests can step time instead of sleeping; keys expire at times on that same clock.)
- **Daily caps** counted per UTC day in the same script; when spent, `RateLimited.retry_after` is the
  time until 00:00 UTC.
- **429 feedback**: `penalize` (called when Zoom answers 429 anyway, e.g. because another app on the
  account is busy) cuts the bucket's rate by `penalty_factor` (to 80 %; again in each later window
  that sees a 429), blocks it until Zoom's `Retry-After`, then lets the rate grow back by
  `recovery` of the budget per clean window. Not by half: at a 100 % share most 429s are lone ones
  from arrival jitter (docs/rate-limits.md). The state is in Redis, so every process
  slows down together.

Keys are `zoomadmin:rl:{<account id>}:…` (the braces keep one account's keys in one cluster slot) and
expire by themselves.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from redis import Redis

from zoomadmin.redis import redis_client
from zoomadmin.zoom.errors import RateLimited, wait_in_words
from zoomadmin.zoom.plans import LABELS, Budget, plan_budget

KEY_PREFIX = "zoomadmin:rl:"
_US = 1_000_000

# KEYS: 1 grant log (list of grant times, oldest first), 2 penalty hash, 3 daily counter hash.
# ARGV: 1 requests per window, 2 window in µs (margin included), 3 daily cap (0: none),
#       4 recovery (share of the budget regained per clean window), 5 now in µs ('': Redis TIME).
# Returns {1, 0, "ok"} or {0, µs until a slot may be free, reason}. Times are whole microseconds:
# they fit a Lua double exactly, and integers survive the trip back to Python.
_ACQUIRE_LUA = """
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local daily_cap = tonumber(ARGV[3])
local recovery = tonumber(ARGV[4])

local allowed = limit
local pen = redis.call('HMGET', KEYS[2], 'rate', 'from', 'until')
if pen[1] then
  local blocked_until = tonumber(pen[3])
  if now < blocked_until then
    return {0, blocked_until - now, 'blocked'}
  end
  local rate = tonumber(pen[1]) + recovery * limit * (now - tonumber(pen[2])) / window
  if rate < limit then
    allowed = math.max(1, math.floor(rate + 1e-9))
  end
end

local day = math.floor(now / 86400000000)
local day_count = 0
if daily_cap > 0 then
  local d = redis.call('HMGET', KEYS[3], 'day', 'count')
  if d[1] and tonumber(d[1]) == day then
    day_count = tonumber(d[2])
  end
  if day_count >= daily_cap then
    return {0, (day + 1) * 86400000000 - now, 'daily'}
  end
end

while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head or tonumber(head) > now - window then break end
  redis.call('LPOP', KEYS[1])
end
local n = redis.call('LLEN', KEYS[1])
if n >= allowed then
  -- The slot frees when the entry that keeps the count at `allowed` leaves the window.
  local entry = tonumber(redis.call('LINDEX', KEYS[1], n - allowed))
  return {0, entry + window - now, 'window'}
end

redis.call('RPUSH', KEYS[1], string.format('%.0f', now))
redis.call('PEXPIREAT', KEYS[1], math.ceil((now + window) / 1000) + 1000)
if daily_cap > 0 then
  redis.call('HSET', KEYS[3], 'day', string.format('%.0f', day), 'count', day_count + 1)
  redis.call('EXPIREAT', KEYS[3], (day + 1) * 86400 + 60)
end
return {1, 0, 'ok'}
"""

# KEYS: 1 penalty hash. ARGV: 1 requests per window, 2 factor, 3 block for µs (-1: not given),
# 4 recovery per window, 5 window in µs, 6 now in µs ('': Redis TIME).
# Several requests in flight usually get 429 together; only the first within a window cuts the
# rate, the others just extend the block, so one busy moment does not collapse the rate to 1.
_PENALIZE_LUA = """
local now
if ARGV[6] ~= '' then
  now = tonumber(ARGV[6])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local limit = tonumber(ARGV[1])
local factor = tonumber(ARGV[2])
local block = tonumber(ARGV[3])
local recovery = tonumber(ARGV[4])
local window = tonumber(ARGV[5])

local current = limit
local last = nil
local blocked_until = now
local pen = redis.call('HMGET', KEYS[1], 'rate', 'from', 'until', 'last')
if pen[1] then
  current = math.min(limit, tonumber(pen[1]) + recovery * limit * math.max(0, now - tonumber(pen[2])) / window)
  blocked_until = math.max(now, tonumber(pen[3]))
  last = tonumber(pen[4])
end
local rate = current
if not last or now - last >= window then
  rate = math.max(1, current * factor)
  last = now
end
if block >= 0 then
  blocked_until = math.max(blocked_until, now + block)
end
redis.call('HSET', KEYS[1], 'rate', string.format('%.6f', rate), 'from', string.format('%.0f', blocked_until),
  'until', string.format('%.0f', blocked_until), 'last', string.format('%.0f', last))
local full_at = blocked_until + (limit - rate) / (recovery * limit) * window
redis.call('PEXPIREAT', KEYS[1], math.ceil((full_at + window) / 1000) + 1000)
return string.format('%.6f', rate)
"""


class Clock(Protocol):
    """A time source for the limiter in place of Redis `TIME` and real sleeps (tests step it)."""

    def now(self) -> float:
        """Seconds since the Unix epoch (UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock."""
        ...


@dataclass(frozen=True)
class _Keys:
    log: str
    penalty: str
    daily: str


def _keys(account_id: str, budget: Budget) -> _Keys:
    bucket = f"{KEY_PREFIX}{{{account_id}}}:{budget.label.lower()}"
    return _Keys(
        log=f"{bucket}:log",
        penalty=f"{bucket}:penalty",
        daily=f"{KEY_PREFIX}{{{account_id}}}:day:{budget.daily_group}",
    )


def _refusal(reason: str, retry_after: float, budget: Budget) -> RateLimited:
    if reason == "daily":
        message = f"Zoom's daily rate limit for this account is used up; try again in {wait_in_words(retry_after)}."
        detail = f"daily budget of {budget.daily} {budget.daily_group} requests spent"
    else:
        message = f"Zoom's rate limit for this account is busy; try again in {wait_in_words(retry_after)}."
        detail = (
            "slowed down after Zoom answered 429"
            if reason == "blocked"
            else f"{budget.per_window} {budget.label} requests per {budget.window:g} s in use"
        )
    return RateLimited(message, retry_after=retry_after, detail=detail)


@dataclass(frozen=True)
class LabelUsage:
    """One label's budget for one account at this moment, as the limiter's shared state has it.

    `in_window`: slots granted within the current window (margin included). `allowed`: slots per
    window now (the budget, or less while the rate recovers after a 429). `blocked_for`: seconds
    until slots are granted again after Zoom's `Retry-After` (0: not blocked). `daily_used`: today's
    (UTC) count of the label's daily group, or None when the plan has no daily cap for the label.
    """

    budget: Budget
    in_window: int
    allowed: int
    blocked_for: float
    daily_used: int | None

    @property
    def label(self) -> str:
        """Zoom's name of the label (`Light`, `Medium`, ...)."""
        return self.budget.label

    @property
    def daily_left(self) -> int | None:
        """Slots left today, or None without a daily cap."""
        if self.budget.daily is None or self.daily_used is None:
            return None
        return max(0, self.budget.daily - self.daily_used)

    @property
    def slowed(self) -> bool:
        """Whether a 429 from Zoom currently holds this label below its budget (or blocks it)."""
        return self.blocked_for > 0 or self.allowed < self.budget.per_window


class RateLimiter:
    """Slots of each Zoom account's rate-limit budget, per label, shared through Redis.

    `share` is the part of Zoom's limits this install may use; `margin` (seconds) widens each window
    against network jitter; `penalty_factor` multiplies the rate on a 429; `recovery` is the share of
    the budget regained per clean window after that. `clock` replaces Redis `TIME` and real sleeps;
    every limiter sharing buckets must then share the clock (production leaves it None).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        share: float | None = None,
        margin: float = 0.05,
        penalty_factor: float = 0.8,
        recovery: float = 0.1,
        clock: Clock | None = None,
    ) -> None:
        if share is None:
            share = float(settings.ZOOM_RATE_LIMIT_SHARE)
        if not 0.0 < share <= 1.0:
            raise ValueError(f"share must be in (0, 1], not {share!r}")
        if margin < 0:
            raise ValueError("margin must not be negative")
        if not 0.0 < penalty_factor <= 1.0:
            raise ValueError("penalty_factor must be in (0, 1]")
        if recovery <= 0:
            raise ValueError("recovery must be positive")
        self.redis = redis
        self.share = share
        self.margin = margin
        self.penalty_factor = penalty_factor
        self.recovery = recovery
        self.clock = clock
        self._acquire_script = redis.register_script(_ACQUIRE_LUA)
        self._penalize_script = redis.register_script(_PENALIZE_LUA)

    def budget(self, *, plan: str, label: str) -> Budget:
        """This limiter's budget for `label` on `plan` (Zoom's numbers times `share`)."""
        return plan_budget(plan=plan, label=label, share=self.share)

    def acquire(self, *, account_id: str, plan: str, label: str, wait: bool, max_wait: float = 60.0) -> None:
        """Take a slot; wait=True sleeps until one is free (up to max_wait, then RateLimited), else raises
        RateLimited(retry_after=<seconds until a slot frees>) immediately.

        A wait that would end after `max_wait` (a spent daily budget, a long `Retry-After`) is refused
        at once rather than slept through.
        """
        budget = self.budget(plan=plan, label=label)
        keys = _keys(account_id, budget)
        args: list[str | int] = [
            budget.per_window,
            round((budget.window + self.margin) * _US),
            budget.daily or 0,
            repr(self.recovery),
        ]
        clock_now, sleep = (self.clock.now, self.clock.sleep) if self.clock else (time.monotonic, time.sleep)
        deadline = clock_now() + max_wait
        while True:
            granted, retry_us, reason = self._acquire_script(
                keys=[keys.log, keys.penalty, keys.daily], args=[*args, self._now_us()]
            )
            if granted:
                return
            retry_after = int(retry_us) / _US
            if not wait or clock_now() + retry_after > deadline:
                raise _refusal(_text(reason), retry_after, budget)
            # The script said exactly when the next slot frees: sleep until then (a hair more, so the
            # recheck does not land a microsecond early), then ask again; another process may win it.
            sleep(retry_after + 0.0005)

    def penalize(self, *, account_id: str, plan: str, label: str, retry_after: float | None) -> None:
        """Zoom answered 429: slow this bucket down (recovers gradually).

        The rate drops by `penalty_factor` (not below one request per window), nothing is granted
        until `retry_after` seconds have passed (when Zoom said), then the rate grows back by
        `recovery` of the budget per window without a further 429.
        """
        budget = self.budget(plan=plan, label=label)
        keys = _keys(account_id, budget)
        block_us = -1 if retry_after is None else max(0, round(retry_after * _US))
        self._penalize_script(
            keys=[keys.penalty],
            args=[
                budget.per_window,
                repr(self.penalty_factor),
                block_us,
                repr(self.recovery),
                round((budget.window + self.margin) * _US),
                self._now_us(),
            ],
        )

    def usage(self, *, account_id: str, plan: str) -> list[LabelUsage]:
        """How much of each label's budget `account_id` is using now and has used today (read-only).

        One pipelined round trip reading the same keys `acquire` and `penalize` keep, interpreted as
        their scripts do; nothing is written, so looking never spends or extends anything. Labels
        come in Zoom's order (Light, Medium, Heavy, Resource-intensive).
        """
        budgets = [self.budget(plan=plan, label=label) for label in LABELS]
        pipe = self.redis.pipeline(transaction=False)
        if self.clock is None:
            pipe.time()
        for budget in budgets:
            keys = _keys(account_id, budget)
            pipe.lrange(keys.log, 0, -1)
            pipe.hmget(keys.penalty, ["rate", "from", "until"])
            pipe.hmget(keys.daily, ["day", "count"])
        replies = pipe.execute()
        if self.clock is None:
            seconds, micros = replies.pop(0)
            now = int(seconds) * _US + int(micros)
        else:
            now = round(self.clock.now() * _US)
        day = now // (86_400 * _US)
        found = []
        for index, budget in enumerate(budgets):
            log, penalty, daily = replies[3 * index : 3 * index + 3]
            window = round((budget.window + self.margin) * _US)
            in_window = sum(1 for grant in log if int(grant) > now - window)
            allowed, blocked_for = budget.per_window, 0.0
            rate, since, until = penalty
            if rate is not None:
                blocked_for = max(0, int(until) - now) / _US
                # As _ACQUIRE_LUA: the reduced rate grows back by `recovery` of the budget per window.
                regained = float(rate) + self.recovery * budget.per_window * max(0, now - int(since)) / window
                if regained < budget.per_window:
                    allowed = max(1, math.floor(regained + 1e-9))
            daily_used = None
            if budget.daily is not None:
                counted_day, count = daily
                daily_used = int(count) if counted_day is not None and int(counted_day) == day else 0
            found.append(
                LabelUsage(
                    budget=budget, in_window=in_window, allowed=allowed, blocked_for=blocked_for, daily_used=daily_used
                )
            )
        return found

    def _now_us(self) -> str:
        """The scripts' `now` argument: the clock's time in whole µs, or '' for Redis `TIME`."""
        return "" if self.clock is None else str(round(self.clock.now() * _US))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def default_limiter() -> RateLimiter:
    """The limiter on the project's Redis with the configured share (`ZOOM_RATE_LIMIT_SHARE`)."""
    return RateLimiter(redis_client(), share=settings.ZOOM_RATE_LIMIT_SHARE)
