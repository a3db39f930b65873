"""Zoom's rate limits, per sandbox account and rate-limit label (interface; see issue #2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from zoomadmin.sandbox.models import SandboxAccount


@dataclass(frozen=True)
class RateDecision:
    """Whether a request is served, the X-RateLimit-* headers to send, and the 429 message."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""


def consume(account: SandboxAccount, label: str, *, endpoint: str) -> RateDecision:
    """Take one request from the account's budget for `label`."""
    return RateDecision(allowed=True, headers={"X-RateLimit-Category": label})
