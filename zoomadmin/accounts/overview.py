"""The account overview: everything the landing page of an account shows, gathered in a few queries.

The page admins open every day must stay fast on a 50,000-user account, so every number comes
from a GROUP BY or an aggregate over the account's mirror rows (never a row per user or a query per
group), and the lists are short slices (`LIMIT`). It lives in the accounts app because the
overview is the account's page; it reads the directory mirror, the audit log, the bulk jobs and the
shared rate limiter, each through its own models or services.

Query budget (see tests/accounts/test_overview.py): users by status, type and license (1: one
scan of the account's rows), groups count and largest groups (2), freshness (4, one of them the
pending-enrichment count), recent changes (1), recent jobs (1), admins (1); the rate limiter is
one Redis round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from redis import RedisError

from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.audit.models import AuditEvent
from zoomadmin.audit.services import audit_events
from zoomadmin.charts import Bar, Datum, Slice, chart_bars, chart_donut
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser, UserStatus
from zoomadmin.directory.search import LICENSES, license_filter
from zoomadmin.directory.services import Freshness, sync_freshness
from zoomadmin.imports.models import ChangeSet
from zoomadmin.zoom.ratelimit import LabelUsage, RateLimiter, default_limiter

logger = logging.getLogger(__name__)

RECENT_CHANGES = 10
RECENT_JOBS = 5
LARGEST_GROUPS = 5
# User types beyond this many are summed into one "N other types" bar (Zoom has three; others may appear).
USER_TYPES_SHOWN = 6

_STATUS_TONES = {UserStatus.ACTIVE: "success", UserStatus.INACTIVE: "neutral", UserStatus.PENDING: "warning"}


def count_words(value: int) -> str:
    """A count with thousands separated ("50,000"), for the page's totals."""
    return f"{value:,}"


def duration_words(seconds: float) -> str:
    """How long something took, as a person would say it: "8 seconds", "2 min 13 s", "1 h 5 min"."""
    whole = round(seconds)
    if whole < 60:
        return "under a second" if seconds < 1 else f"{whole} second{'s' if whole != 1 else ''}"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass(frozen=True)
class UsersSummary:
    """The account's mirrored users: how many, by status, by user type and by license.

    Licenses are known only for users whose full profile has been fetched (`enriched`); the rest
    (`enrichment_pending`) are not counted under any license yet.
    """

    total: int
    by_status: list[Slice]
    by_type: list[Bar]
    by_license: list[Bar]
    enriched: int
    enrichment_pending: int

    @property
    def total_display(self) -> str:
        """The total with thousands separated."""
        return count_words(self.total)


@dataclass(frozen=True)
class GroupsSummary:
    """How many groups the account has, and the largest ones (bars of their member counts)."""

    total: int
    largest: list[Bar]


@dataclass(frozen=True)
class DailyHeadroom:
    """Today's (UTC) use of one daily cap; its bar is labelled with the labels that share it (Heavy
    and Resource-intensive share one on paid plans)."""

    cap: int
    used: int
    left: int
    bars: list[Bar]

    @property
    def left_display(self) -> str:
        """The requests left today, thousands separated."""
        return count_words(self.left)


@dataclass(frozen=True)
class RateLimits:
    """The account's rate-limit budgets: every label now, the daily caps today, and the labels without one."""

    share_percent: int
    labels: list[LabelUsage]
    daily: list[DailyHeadroom]
    uncapped: list[LabelUsage] = field(default_factory=list)

    @property
    def uncapped_text(self) -> str:
        """The labels without a daily cap on this plan, in words ("Light and Medium"; "" for none)."""
        names = [item.label for item in self.uncapped]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


@dataclass(frozen=True)
class Overview:
    """Everything `/a/<zoom account id>/` shows. `rate_limits` is None when Redis cannot be read
    (`rate_limits_error` says so in a sentence)."""

    account: ZoomAccount
    users: UsersSummary
    groups: GroupsSummary
    freshness: Freshness
    recent_changes: list[AuditEvent]
    recent_jobs: list[ChangeSet]
    admins: list[ZoomConnection]
    rate_limits: RateLimits | None
    rate_limits_error: str = ""

    @property
    def last_sync_took(self) -> str:
        """How long the last complete sync took, in words ("" before the first one)."""
        run = self.freshness.last_success
        seconds = run.duration_seconds if run is not None else None
        return "" if seconds is None else duration_words(seconds)

    @property
    def never_synced(self) -> bool:
        """No complete sync yet and nothing in the mirror: the page shows an empty state, not zeros."""
        return self.freshness.last_synced_at is None and self.users.total == 0


def _users_url(account: ZoomAccount, **params: str) -> str:
    return reverse("directory:users", args=[account.zoom_id]) + "?" + urlencode(params)


def _users_summary(account: ZoomAccount) -> UsersSummary:
    known = Q(enriched_at__isnull=False)
    # One scan of the account's rows gives every breakdown: a handful of (status, type) groups, each
    # with its enriched users and their licenses (filtered counts; the same tests as the users
    # list's license filter, so a bar's number is what its link lists). On a 50,000-user account the
    # heap scan is the cost; the per-row license tests add little to it.
    licenses = {f"license_{n}": Count("id", filter=known & license_filter(key)) for n, key in enumerate(LICENSES)}
    rows = (
        DirectoryUser.objects.filter(account=account)
        .values("status", "user_type")
        .annotate(n=Count("id"), enriched=Count("id", filter=known), **licenses)
        .order_by()
    )
    statuses: dict[str, int] = {}
    types: dict[str, int] = {}
    counts: dict[str, int] = dict.fromkeys(["enriched", *licenses], 0)
    # The stubs type the rows with the literal keys only; the license counts are named at run time.
    for row in cast(Iterable[Mapping[str, Any]], rows):
        statuses[row["status"]] = statuses.get(row["status"], 0) + row["n"]
        types[row["user_type"]] = types.get(row["user_type"], 0) + row["n"]
        for name in counts:
            counts[name] += row[name]
    total = sum(statuses.values())

    by_status = chart_donut(
        Datum(
            label=str(choice.label),
            value=statuses.get(choice.value, 0),
            url=_users_url(account, status=choice.value),
            tone=_STATUS_TONES[choice],
        )
        for choice in UserStatus
    )

    ranked = sorted(types.items(), key=lambda item: (-item[1], item[0]))
    shown, rest = ranked[:USER_TYPES_SHOWN], ranked[USER_TYPES_SHOWN:]
    type_data = [
        Datum(
            label=user_type or "Not given",
            value=n,
            # The users list filters on a type by its value; there is no filter for "no type".
            url=_users_url(account, user_type=user_type) if user_type else "",
        )
        for user_type, n in shown
    ]
    if rest:
        type_data.append(Datum(label=f"{len(rest)} other types", value=sum(n for _, n in rest)))
    by_type = chart_bars(type_data, total=total)

    enriched = counts["enriched"]
    license_data = sorted(
        (
            Datum(label=name, value=counts[f"license_{n}"], url=_users_url(account, license=key))
            for n, (key, name) in enumerate(LICENSES.items())
            if counts[f"license_{n}"]
        ),
        key=lambda datum: (-datum.value, datum.label),
    )
    # Shares of the users whose licenses are known: the others may hold any of them.
    by_license = chart_bars(license_data, total=enriched, scale=enriched)
    return UsersSummary(
        total=total,
        by_status=by_status,
        by_type=by_type,
        by_license=by_license,
        enriched=enriched,
        enrichment_pending=total - enriched,
    )


def _groups_summary(account: ZoomAccount) -> GroupsSummary:
    groups = DirectoryGroup.objects.filter(account=account)
    largest = list(
        groups.order_by("-member_count", "display_name", "id").only("zoom_id", "display_name", "member_count")[
            :LARGEST_GROUPS
        ]
    )
    return GroupsSummary(
        total=groups.count(),
        largest=chart_bars(
            (
                Datum(
                    label=group.display_name,
                    value=group.member_count,
                    url=reverse("directory:group", args=[account.zoom_id, group.zoom_id]),
                    tone="primary",
                )
                for group in largest
            ),
            total=0,
        ),
    )


def _rate_limits(account: ZoomAccount, limiter: RateLimiter) -> RateLimits:
    usage = limiter.usage(account_id=account.zoom_id, plan=account.plan)
    daily: list[DailyHeadroom] = []
    groups: dict[str, list[LabelUsage]] = {}
    for item in usage:
        if item.budget.daily is not None:
            groups.setdefault(item.budget.daily_group, []).append(item)
    for members in groups.values():
        first = members[0]
        cap = first.budget.daily or 0
        used = first.daily_used or 0
        daily.append(
            DailyHeadroom(
                cap=cap,
                used=used,
                left=max(0, cap - used),
                bars=chart_bars(
                    [
                        Datum(
                            label=" and ".join(item.label for item in members),
                            value=used,
                            tone=_tone_for(used, cap),
                            text=f"{count_words(used)} of {count_words(cap)}",
                        )
                    ],
                    total=cap,
                    scale=cap,
                ),
            )
        )
    return RateLimits(
        share_percent=round(100 * limiter.share),
        labels=usage,
        daily=daily,
        uncapped=[item for item in usage if item.budget.daily is None],
    )


def _tone_for(used: int, cap: int) -> str:
    """A daily cap's bar turns amber past three quarters and red past nine tenths."""
    if cap and used >= 0.9 * cap:
        return "danger"
    if cap and used >= 0.75 * cap:
        return "warning"
    return "success"


def _recent_jobs(account: ZoomAccount) -> QuerySet[ChangeSet]:
    return (
        ChangeSet.objects.filter(account=account)
        .order_by("-created", "-id")
        .only("id", "account_id", "title", "file_name", "status", "created_by_email", "created")
    )


def overview_collect(*, account: ZoomAccount, limiter: RateLimiter | None = None) -> Overview:
    """Everything the overview page of `account` shows (about a dozen queries, any account size).

    `limiter` is the shared rate limiter to read (default: `default_limiter()`); when Redis cannot
    be reached, the rest of the overview still comes back with `rate_limits=None`.
    """
    freshness = sync_freshness(account=account)
    try:
        rate_limits: RateLimits | None = _rate_limits(account, limiter or default_limiter())
        rate_limits_error = ""
    except RedisError:
        logger.warning("overview: cannot read the rate limiter for account %s", account.pk, exc_info=True)
        rate_limits = None
        rate_limits_error = "zoomadmin cannot read its rate-limit counters right now (Redis is not answering)."
    return Overview(
        account=account,
        users=_users_summary(account),
        groups=_groups_summary(account),
        freshness=freshness,
        recent_changes=list(audit_events(account=account)[:RECENT_CHANGES]),
        recent_jobs=list(_recent_jobs(account)[:RECENT_JOBS]),
        admins=list(account.connections.select_related("user").order_by("zoom_email")),
        rate_limits=rate_limits,
        rate_limits_error=rate_limits_error,
    )
