"""Zoom's rate limits, per sandbox account and rate-limit label, shared by every sandbox process.

Zoom counts requests per account and *label* (Light, Medium, Heavy, Resource-intensive), with a
per-second limit (per minute for Resource-intensive) and, depending on the plan, daily caps that
reset at 00:00 UTC (reference/zoom-oauth-ratelimits.md §3). The state lives in Redis and one Lua
script decides and records each request atomically, reading the clock from Redis (`TIME`) so
every web process and thread agrees on "now" and on the day.

The per-second limit is a sliding log (a sorted set of the times of served requests), not a
bucket refilled in steps: a request is served only if fewer than `limit` requests were served in
the second before it, so no one-second window, wherever it starts, ever holds more than `limit`.
Refused requests are not recorded, so a client that keeps hammering does not lock itself out.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.commands.core import Script

from zoomadmin.redis import redis_client
from zoomadmin.sandbox.models import Plan, SandboxAccount

LIGHT = "Light"
MEDIUM = "Medium"
HEAVY = "Heavy"
RESOURCE_INTENSIVE = "Resource-intensive"
LABELS = (LIGHT, MEDIUM, HEAVY, RESOURCE_INTENSIVE)

QPS = "QPS"
DAILY = "Daily-limit"

PER_SECOND_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. "
    "Refer to the response header for details on when you can make another request."
)

KEY_PREFIX = "sandbox:rl:"

# Requests per window, by plan and label (§3.2). Resource-intensive counts per minute.
# Deliberately not shared with zoomadmin.zoom.plans: the emulator and the client each transcribe
# the reference, so a slip in one shows up in the tests that run the other against it.
WINDOW_LIMITS: dict[str, dict[str, int]] = {
    Plan.FREE: {LIGHT: 4, MEDIUM: 2, HEAVY: 1, RESOURCE_INTENSIVE: 10},
    Plan.PRO: {LIGHT: 30, MEDIUM: 20, HEAVY: 10, RESOURCE_INTENSIVE: 10},
    Plan.BUSINESS: {LIGHT: 80, MEDIUM: 60, HEAVY: 40, RESOURCE_INTENSIVE: 20},
}
WINDOW_SECONDS: dict[str, int] = {LIGHT: 1, MEDIUM: 1, HEAVY: 1, RESOURCE_INTENSIVE: 60}
# The legacy SCIM rule of Zoom's old docs: 1 request per second per account and SCIM endpoint.
LEGACY_ENDPOINT_LIMIT = 1

# Daily caps: (counter name, cap). Free counts each label on its own; Pro and Business+ share one
# counter between Heavy and Resource-intensive and have none for Light and Medium.
_SHARED = "Heavy+Resource-intensive"
DAILY_CAPS: dict[str, dict[str, tuple[str, int]]] = {
    Plan.FREE: {
        LIGHT: (LIGHT, 6_000),
        MEDIUM: (MEDIUM, 2_000),
        HEAVY: (HEAVY, 1_000),
        RESOURCE_INTENSIVE: (RESOURCE_INTENSIVE, 30_000),
    },
    Plan.PRO: {HEAVY: (_SHARED, 30_000), RESOURCE_INTENSIVE: (_SHARED, 30_000)},
    Plan.BUSINESS: {HEAVY: (_SHARED, 60_000), RESOURCE_INTENSIVE: (_SHARED, 60_000)},
}

# KEYS: 1 window log, 2 endpoint log (legacy rule), 3 daily counter (a hash {day, used}).
# ARGV: 1 limit, 2 window in µs, 3 "1" if the legacy rule applies, 4 daily cap (0 = none),
#       5 a unique member for the logs, 6 the endpoint limit, 7 when the request arrived (epoch µs;
#       '': now). The window log records arrival times, as Zoom counts requests when they reach it;
#       a log entry later than this one's still counts against it, so the check only gets stricter.
# Returns {allowed, served in window, daily used, next midnight (epoch s), window ok, daily ok};
# counts include this request when it is allowed. Refused with window and day ok = the endpoint log.
_CONSUME_LUA = """
local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now_us = now_s * 1000000 + tonumber(t[2])
if ARGV[7] ~= '' then now_us = math.min(now_us, tonumber(ARGV[7])) end
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2])
local legacy = ARGV[3] == '1'
local cap = tonumber(ARGV[4])
local member = ARGV[5]
local day = math.floor(now_s / 86400)
local next_midnight = (day + 1) * 86400

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_us - window_us)
local served = redis.call('ZCARD', KEYS[1])
local window_ok = served < limit

local endpoint_ok = true
if legacy then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_us - 1000000)
  endpoint_ok = redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[6])
end

local used = 0
if cap > 0 then
  local stored = redis.call('HMGET', KEYS[3], 'day', 'used')
  if tonumber(stored[1]) == day then used = tonumber(stored[2]) end
end
local daily_ok = cap == 0 or used < cap

if not (window_ok and endpoint_ok and daily_ok) then
  return {0, served, used, next_midnight, window_ok and 1 or 0, daily_ok and 1 or 0}
end
redis.call('ZADD', KEYS[1], now_us, member)
redis.call('PEXPIRE', KEYS[1], math.floor(window_us / 1000) + 1000)
if legacy then
  redis.call('ZADD', KEYS[2], now_us, member)
  redis.call('PEXPIRE', KEYS[2], 2000)
end
if cap > 0 then
  redis.call('HSET', KEYS[3], 'day', day, 'used', used + 1)
  redis.call('EXPIREAT', KEYS[3], next_midnight + 3600)
end
return {1, served + 1, used + 1, next_midnight, 1, 1}
"""

# KEYS: 1 daily counter. ARGV: 1 used. Sets today's count (same clock as the limiter).
_SET_DAILY_LUA = """
local t = redis.call('TIME')
local day = math.floor(tonumber(t[1]) / 86400)
redis.call('HSET', KEYS[1], 'day', day, 'used', tonumber(ARGV[1]))
redis.call('EXPIREAT', KEYS[1], (day + 1) * 86400 + 3600)
return day
"""

# KEYS: 1 daily counter. Today's count, 0 if the stored one is from an earlier day.
_GET_DAILY_LUA = """
local t = redis.call('TIME')
local day = math.floor(tonumber(t[1]) / 86400)
local stored = redis.call('HMGET', KEYS[1], 'day', 'used')
if tonumber(stored[1]) == day then return tonumber(stored[2]) end
return 0
"""


@dataclass(frozen=True)
class RateDecision:
    """Whether a request is served, the X-RateLimit-* headers to send, and the 429 message."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""


@functools.cache
def _script(source: str) -> Script:
    # Script objects run by EVALSHA and reload themselves after a Redis restart (NOSCRIPT).
    return redis_client().register_script(source)


def _account_key(account: SandboxAccount, *parts: str) -> str:
    # The account's zoom_id (random, never reused) rather than its pk, which a fresh database reuses;
    # the braces are a Redis Cluster hash tag keeping one account's keys on one node.
    return KEY_PREFIX + "{" + account.zoom_id + "}:" + ":".join(parts)


def _daily_counter(account: SandboxAccount, label: str) -> tuple[str, int] | None:
    """The daily counter name and cap that `label` draws from on this account's plan, if any."""
    return DAILY_CAPS[account.plan].get(label)


def _check_label(label: str) -> None:
    if label not in LABELS:
        raise ValueError(f"unknown rate-limit label {label!r}; expected one of {', '.join(LABELS)}")


def window_limit(account: SandboxAccount, label: str) -> int:
    """Requests per window (second, or minute for Resource-intensive) for `label` on the account's plan."""
    _check_label(label)
    return WINDOW_LIMITS[account.plan][label]


def retry_after_header(epoch_seconds: int) -> str:
    """Zoom's `Retry-After` on daily 429s: an ISO-8601 UTC timestamp (`2025-01-20T00:00:00Z`)."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def consume(
    account: SandboxAccount, label: str, *, endpoint: str, scim: bool = True, arrived_us: int | None = None
) -> RateDecision:
    """Take one request from the account's budget for `label` (and `endpoint`, in legacy SCIM mode).

    The legacy per-endpoint second applies only to SCIM endpoints (`scim`), as Zoom's old docs said.
    `arrived_us` (epoch microseconds) is when the request reached the sandbox: it is the time
    counted in the per-second window, not the moment a busy server got round to deciding.

    Answers whether the request is served, with the `X-RateLimit-*` headers Zoom sends: the type
    (`QPS` or `Daily-limit`) is the limit that refused the request, or for a served one the limit
    with fewer requests left. A refused request is not counted.
    """
    limit = window_limit(account, label)
    daily = _daily_counter(account, label)
    if not account.rate_limits_enabled:
        return RateDecision(allowed=True, headers=_headers(label, QPS, limit, limit))

    window_us = WINDOW_SECONDS[label] * 1_000_000
    legacy = account.legacy_scim_one_rps and scim
    keys = [
        _account_key(account, "win", label),
        _account_key(account, "ep", endpoint),
        _account_key(account, "day", daily[0]) if daily else _account_key(account, "day", "-"),
    ]
    args: list[Any] = [
        limit,
        window_us,
        "1" if legacy else "0",
        daily[1] if daily else 0,
        secrets.token_hex(8),
        LEGACY_ENDPOINT_LIMIT,
        "" if arrived_us is None else arrived_us,
    ]
    result = _script(_CONSUME_LUA)(keys=keys, args=args)
    allowed, served, used, next_midnight, window_ok, daily_ok = (int(value) for value in result)

    if allowed:
        window_left = limit - served
        if daily and daily[1] - used < window_left:
            return RateDecision(allowed=True, headers=_headers(label, DAILY, daily[1], daily[1] - used))
        return RateDecision(allowed=True, headers=_headers(label, QPS, limit, window_left))

    if not daily_ok and daily:
        # The daily cap outlasts any per-second wait, so it is the one worth reporting.
        headers = _headers(label, DAILY, daily[1], 0)
        headers["Retry-After"] = retry_after_header(next_midnight)
        message = DAILY_MESSAGE
    else:
        # The label's window, or else the legacy per-endpoint second, is full.
        headers = _headers(label, QPS, limit if not window_ok else LEGACY_ENDPOINT_LIMIT, 0)
        message = PER_SECOND_MESSAGE
    if account.ratelimit_headers_quirk:
        # Seen in the wild: 429s without X-RateLimit-Type or Retry-After.
        headers.pop("X-RateLimit-Type", None)
        headers.pop("Retry-After", None)
    return RateDecision(allowed=False, headers=headers, message=message)


def _headers(label: str, limit_type: str, limit: int, remaining: int) -> dict[str, str]:
    return {
        "X-RateLimit-Category": label,
        "X-RateLimit-Type": limit_type,
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
    }


def daily_usage(account: SandboxAccount) -> dict[str, tuple[int, int]]:
    """Today's (used, cap) per daily counter of the account's plan, e.g. `{"Light": (12, 6000)}`."""
    read = _script(_GET_DAILY_LUA)
    counters = dict(DAILY_CAPS[account.plan].values())
    return {name: (int(read(keys=[_account_key(account, "day", name)])), cap) for name, cap in counters.items()}


def daily_usage_set(*, account: SandboxAccount, label: str, used: int) -> None:
    """Set today's count of the daily counter `label` draws from (demos of a nearly spent day, tests).

    Raises ValueError when `label` has no daily cap on the account's plan.
    """
    _check_label(label)
    daily = _daily_counter(account, label)
    if daily is None:
        raise ValueError(f"{label} has no daily cap on the {account.plan} plan")
    if used < 0:
        raise ValueError("used must not be negative")
    _script(_SET_DAILY_LUA)(keys=[_account_key(account, "day", daily[0])], args=[used])
