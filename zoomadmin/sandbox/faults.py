"""Injected latency and failures of a sandbox account: a Zoom that is slow, failing or hanging.

Every API request that passed auth and the rate limiter first sleeps the account's latency
(uniform in mean ± jitter milliseconds, never below zero). Then one draw from the random source
decides its fate: with probability `timeout_rate` it hangs `timeout_hang_seconds` and answers 504,
with probability `error_rate` it answers a 5xx at once (mostly 500, some 502 and 503), otherwise
the handler runs. A single draw keeps the two shares exact (a rate of 1.0 always fires, 0.0
never); if the two rates add up to more than 1, timeouts win the overlap.
"""

from __future__ import annotations

import random
import secrets
import time

from django.http import HttpResponse, JsonResponse

from zoomadmin.sandbox.models import SandboxAccount

# Seeded from the OS so separate sandbox processes do not fail in lockstep.
_random = random.Random(secrets.randbits(64))

# (status, code, message, weight): which 5xx an injected error is, in Zoom's {code, message} shape.
SERVER_ERRORS: tuple[tuple[int, int, str, int], ...] = (
    (500, 500, "Internal server error.", 8),
    (502, 502, "Bad gateway.", 1),
    (503, 503, "Service temporarily unavailable. Try again later.", 1),
)
GATEWAY_TIMEOUT = (504, 504, "Gateway timeout.")


def random_source() -> random.Random:
    """The random source of every fault decision (one per process)."""
    return _random


def latency_seconds(account: SandboxAccount, rng: random.Random) -> float:
    """A latency draw for the account: uniform in mean ± jitter milliseconds, never negative."""
    mean = account.latency_mean_ms
    jitter = account.latency_jitter_ms
    millis = rng.uniform(mean - jitter, mean + jitter) if jitter else float(mean)
    return max(0.0, millis) / 1000


def inject(account: SandboxAccount) -> HttpResponse | None:
    """Sleep the account's latency; return a 5xx/504 response for a failed request, else None."""
    rng = random_source()
    delay = latency_seconds(account, rng)
    if delay:
        time.sleep(delay)
    if account.timeout_rate <= 0 and account.error_rate <= 0:
        return None
    draw = rng.random()
    if draw < account.timeout_rate:
        time.sleep(max(0.0, account.timeout_hang_seconds))
        status, code, message = GATEWAY_TIMEOUT
        return JsonResponse({"code": code, "message": message}, status=status)
    if draw < account.timeout_rate + account.error_rate:
        weights = [weight for *_, weight in SERVER_ERRORS]
        status, code, message, _ = rng.choices(SERVER_ERRORS, weights=weights)[0]
        return JsonResponse({"code": code, "message": message}, status=status)
    return None
