"""Zoom's API rate limits by account plan and rate-limit label, and our share of them.

Zoom counts requests per account and per *label* (every endpoint carries one), not per endpoint,
and every app on the account draws from the same budget. Numbers: shared/reference
zoom-oauth-ratelimits.md §3.2 (Zoom's rate-limits page and its Business+ table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LIGHT = "Light"
MEDIUM = "Medium"
HEAVY = "Heavy"
RESOURCE_INTENSIVE = "Resource-intensive"
LABELS = (LIGHT, MEDIUM, HEAVY, RESOURCE_INTENSIVE)

FREE = "free"
PRO = "pro"
BUSINESS = "business"
PLANS = (FREE, PRO, BUSINESS)
# Zoom's "Business+" column covers these plans too.
_PLAN_ALIASES = {"education": BUSINESS, "enterprise": BUSINESS, "partner": BUSINESS, "business+": BUSINESS}

SECOND = 1.0
MINUTE = 60.0


@dataclass(frozen=True)
class ZoomLimit:
    """One label's limit on one plan, as Zoom publishes it.

    `per_window` requests per `window` seconds; `daily` requests per UTC day counted in the
    `daily_group` counter (labels with the same group share one daily count), or no daily cap.
    """

    per_window: int
    window: float
    daily: int | None
    daily_group: str


# Zoom: https://developers.zoom.us/docs/commerce/rate-limits/
# Free: every label has its own daily cap. Pro and Business+: no daily cap on Light and Medium;
# Heavy and Resource-intensive share one.
ZOOM_LIMITS: dict[str, dict[str, ZoomLimit]] = {
    FREE: {
        LIGHT: ZoomLimit(4, SECOND, 6_000, "light"),
        MEDIUM: ZoomLimit(2, SECOND, 2_000, "medium"),
        HEAVY: ZoomLimit(1, SECOND, 1_000, "heavy"),
        RESOURCE_INTENSIVE: ZoomLimit(10, MINUTE, 30_000, "resource-intensive"),
    },
    PRO: {
        LIGHT: ZoomLimit(30, SECOND, None, "light"),
        MEDIUM: ZoomLimit(20, SECOND, None, "medium"),
        HEAVY: ZoomLimit(10, SECOND, 30_000, "heavy+resource-intensive"),
        RESOURCE_INTENSIVE: ZoomLimit(10, MINUTE, 30_000, "heavy+resource-intensive"),
    },
    BUSINESS: {
        LIGHT: ZoomLimit(80, SECOND, None, "light"),
        MEDIUM: ZoomLimit(60, SECOND, None, "medium"),
        HEAVY: ZoomLimit(40, SECOND, 60_000, "heavy+resource-intensive"),
        RESOURCE_INTENSIVE: ZoomLimit(20, MINUTE, 60_000, "heavy+resource-intensive"),
    },
}


@dataclass(frozen=True)
class Budget:
    """What this install may spend of one label's limit: Zoom's numbers times our share.

    Never below one request per window (or per day), so a small share still makes progress.
    """

    label: str
    per_window: int
    window: float
    daily: int | None
    daily_group: str


def plan_normalize(plan: str) -> str:
    """The canonical plan name (`free`, `pro`, `business`) for a plan as Zoom or settings spell it."""
    key = plan.strip().lower()
    key = _PLAN_ALIASES.get(key, key)
    if key not in ZOOM_LIMITS:
        raise ValueError(f"unknown Zoom plan {plan!r}; expected one of {', '.join(PLANS)}")
    return key


def label_normalize(label: str) -> str:
    """The canonical label (`Light`, `Medium`, `Heavy`, `Resource-intensive`), case and separator blind."""
    key = label.strip().lower().replace("_", "-").replace(" ", "-")
    for known in LABELS:
        if known.lower() == key:
            return known
    raise ValueError(f"unknown Zoom rate-limit label {label!r}; expected one of {', '.join(LABELS)}")


def plan_budget(*, plan: str, label: str, share: float) -> Budget:
    """Our budget for `label` on `plan` when this install may use `share` (0..1] of Zoom's limit.

    Rounded down, so that together with the other apps on the account we stay under Zoom's numbers.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"rate-limit share must be in (0, 1], not {share!r}")
    canonical_label = label_normalize(label)
    limit = ZOOM_LIMITS[plan_normalize(plan)][canonical_label]
    # The small epsilon keeps 0.8 * 30 = 23.999999... from rounding down to 23.
    per_window = max(1, math.floor(limit.per_window * share + 1e-9))
    daily = None if limit.daily is None else max(1, math.floor(limit.daily * share + 1e-9))
    return Budget(
        label=canonical_label,
        per_window=per_window,
        window=limit.window,
        daily=daily,
        daily_group=limit.daily_group,
    )
