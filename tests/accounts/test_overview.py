"""The account overview (`/a/<zoom account id>/`): users by status, type and license, groups, sync,
recent changes and bulk jobs, rate-limit headroom, read from a mirror synced from the sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.directory.conftest import mirror_sync
from tests.html import page_text
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.accounts.overview import duration_words, overview_collect
from zoomadmin.audit.models import AuditAction, AuditTarget
from zoomadmin.audit.services import audit_record
from zoomadmin.charts import Datum, chart_bars, chart_donut
from zoomadmin.directory.enrich import enrich_batch
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser, SyncRun
from zoomadmin.imports.models import ChangeSet, JobStatus
from zoomadmin.redis import redis_client
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser, UserStatus
from zoomadmin.zoom.ratelimit import RateLimiter

# The directory tests' fixture: one complete sync pass of an account's mirror from the sandbox.
__all__ = ["mirror_sync"]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]

HOSTILE = "<script>alert(1)</script>"
RTL = "\u05e7\u05d1\u05d5\u05e6\u05ea \u05de\u05db\u05d9\u05e8\u05d5\u05ea"  # "sales group" in Hebrew
LONG = "G" * 300


@dataclass
class Site:
    client: Client
    connection: ZoomConnection

    @property
    def account(self) -> ZoomAccount:
        return self.connection.account

    @property
    def url(self) -> str:
        return reverse("account:overview", args=[self.account.zoom_id])

    def page(self, **headers: str) -> str:
        answer = self.client.get(self.url, headers=headers)
        assert answer.status_code == 200, answer.content[:500]
        return answer.content.decode()


@pytest.fixture
def site(admin_a: SandboxUser, signed_in: Callable[..., Client]) -> Site:
    client = signed_in(admin_a)
    return Site(client=client, connection=ZoomConnection.objects.get(zoom_email=admin_a.user_name))


@pytest.fixture
def populated(
    account_a: SandboxAccount,
    admin_a: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
) -> SandboxAccount:
    """Account A in Zoom: 12 people of mixed status, type and licenses, and three groups (one hostile)."""
    people = []
    for n in range(12):
        people.append(
            make_sandbox_user(
                account_a,
                user_name=f"person{n:02d}@acme.example.com",
                status=UserStatus.INACTIVE if n % 4 == 0 else UserStatus.PENDING if n == 11 else UserStatus.ACTIVE,
                user_type="Licensed" if n % 3 == 0 else "Basic",
                zoom_extension={"zoomWhiteboard": n % 2 == 0, "zoomHuddles": n < 3},
            )
        )
    sales = SandboxGroup.objects.create(account=account_a, display_name=f"Sales {HOSTILE}")
    sales.members.set(people[:7])
    rtl = SandboxGroup.objects.create(account=account_a, display_name=RTL)
    rtl.members.set(people[:3])
    # The sandbox keeps 200 characters; the 300-character name is given to the mirror where needed.
    SandboxGroup.objects.create(account=account_a, display_name=LONG[:200])
    return account_a


def test_a_synced_account_shows_users_groups_licenses_and_sync(
    site: Site, populated: SandboxAccount, mirror_sync: Callable[[ZoomAccount], SyncRun]
) -> None:
    run = mirror_sync(site.account)
    # Full profiles (licenses) of five users fetched, the rest still pending.
    enrich_batch(account=site.account, max_users=5)
    html = site.page()
    text = page_text(html)

    # 12 people + the admin (+ the owner, if the sandbox has one): counted from the mirror, by status.
    users = DirectoryUser.objects.filter(account=site.account)
    total = users.count()
    active, inactive = users.filter(status="active").count(), users.filter(status="inactive").count()
    assert f"All {total} users" in text
    assert f"Active {active} ({round(100 * active / total)}%)" in text
    assert f"Deactivated {inactive} ({round(100 * inactive / total)}%)" in text
    # The status legend links to the users list filtered on that status.
    assert f'href="/a/{site.account.zoom_id}/users/?status=inactive"' in html
    # The chart is an image whose title says the numbers, and its drawing has a segment per status present.
    assert re.search(rf"<title id=\"overview-status-title\">Users by status: Active {active}, Deactivated", html)
    assert html.count('class="donut-slice') == len({u.status for u in users})

    licensed = users.filter(user_type="Licensed").count()
    assert f"Licensed {licensed} ({round(100 * licensed / total)}%)" in text
    assert f'href="/a/{site.account.zoom_id}/users/?user_type=Licensed"' in html

    # Licenses: shares of the five enriched users only, and how many are still pending.
    assert "Share of the 5 users whose full profile zoomadmin has fetched" in text
    assert f"the licenses of {total - 5} more are still pending" in text
    whiteboard = users.filter(enriched_at__isnull=False, licenses__zoomWhiteboard=True).count()
    if whiteboard:
        assert f"Whiteboard {whiteboard} ({round(100 * whiteboard / 5)}%)" in text

    # Groups: the count, and the largest first with their member counts, linked to their pages.
    groups = DirectoryGroup.objects.filter(account=site.account).count()
    assert groups == 4  # the three above and the account's default group
    assert f"All {groups} groups" in text
    sales = DirectoryGroup.objects.get(account=site.account, display_name__startswith="Sales")
    group_bars = html[html.index('data-testid="overview-group-bars"') :]
    assert group_bars.index("Sales &lt;script&gt;") < group_bars.index(RTL)
    assert f'href="/a/{site.account.zoom_id}/groups/{sales.zoom_id}/"' in group_bars
    assert re.search(
        r"Sales &lt;script&gt;alert\(1\)&lt;/script&gt;</bdi></a></span>\s*<span class=\"chart-bar-value\">7<", html
    )

    # The last sync: when, how long, what it read; the freshness line with "Sync now".
    assert "Synced with Zoom" in text
    assert f"{run.users_seen} users, {groups} groups" in text
    assert re.search(r"Took (under a second|\d+ seconds?)", text)
    assert f'action="/a/{site.account.zoom_id}/users/sync/"' in html
    # Nothing changed through zoomadmin yet, and no bulk jobs.
    assert "No changes made through zoomadmin yet" in text
    assert "No imports or bulk actions yet" in text
    # The account's facts and its admins stay.
    assert "Zoom account ID" in text
    assert "admin@acme.example.com" in text
    assert "overview-empty" not in html


def test_a_never_synced_account_shows_an_empty_state_not_zeros(site: Site) -> None:
    html = site.page()
    text = page_text(html)

    assert 'data-testid="overview-empty"' in html
    assert "Nothing read from Zoom yet" in text
    # "Sync now" posts to the directory's sync view and comes back here.
    form = html[html.index('<form id="freshness"') :]
    assert f'action="/a/{site.account.zoom_id}/users/sync/"' in form
    assert f'name="next" value="/a/{site.account.zoom_id}/"' in form
    assert ">Sync now</button>" in form
    # No charts of nothing.
    assert "donut" not in html
    assert 'data-testid="overview-users"' not in html
    assert 'data-testid="overview-groups"' not in html
    assert "All 0 users" not in text
    # What is real is still there: rate limits, the account, its admins.
    assert 'data-testid="overview-rate-limits"' in html
    assert "admin@acme.example.com" in text


def test_sync_now_from_the_empty_state_lands_back_on_the_overview(site: Site) -> None:
    answer = site.client.post(reverse("directory:sync", args=[site.account.zoom_id]), {"next": site.url})
    assert answer.status_code == 302
    assert answer["Location"] == site.url
    assert SyncRun.objects.filter(account=site.account).exists()
    # The sync is queued (a worker runs it): the page shows its progress instead of the button.
    html = site.page()
    assert 'data-testid="overview-empty"' in html
    assert "Syncing with Zoom" in page_text(html)
    assert '<form id="freshness"' not in html


def test_recent_changes_and_bulk_jobs(
    site: Site, populated: SandboxAccount, mirror_sync: Callable[[ZoomAccount], SyncRun]
) -> None:
    mirror_sync(site.account)
    for n in range(12):
        audit_record(
            account=site.account,
            actor=site.connection,
            action=AuditAction.USER_UPDATE,
            target_type=AuditTarget.USER,
            target_zoom_id=f"u-{n}",
            target_label=f"user{n}@acme.example.com" if n else f"{HOSTILE}@acme.example.com",
            changes={"title": ["A", "B"]},
        )
    job = ChangeSet.objects.create(
        account=site.account,
        created_by=site.connection,
        created_by_email=site.connection.zoom_email,
        file_name=f"{HOSTILE}.csv",
        status=JobStatus.FINISHED,
    )
    html = site.page()
    changes = html[html.index('data-testid="overview-changes"') : html.index('data-testid="overview-jobs"')]

    # The ten newest, each linking to the audit log filtered on its target.
    assert changes.count("<tr>") == 11  # header + 10
    assert "user11@acme.example.com" in changes
    assert "user1@acme.example.com" not in changes.replace("user11@", "").replace("user10@", "")
    assert f'href="/a/{site.account.zoom_id}/audit/?target=u-11"' in changes
    assert f'href="/a/{site.account.zoom_id}/audit/"' in changes
    assert f'href="/a/{site.account.zoom_id}/audit/?result=failure"' in changes

    jobs = html[html.index('data-testid="overview-jobs"') : html.index('data-testid="overview-rate-limits"')]
    assert f'href="/a/{site.account.zoom_id}/imports/{job.pk}/"' in jobs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in jobs
    assert f'href="/a/{site.account.zoom_id}/imports/"' in jobs
    assert HOSTILE not in html


def test_rate_limits_show_todays_headroom_and_no_invented_caps(site: Site) -> None:
    account = site.account
    assert account.plan == "business"
    limiter = RateLimiter(redis_client())
    for _ in range(3):
        limiter.acquire(account_id=account.zoom_id, plan=account.plan, label="Heavy", wait=False)

    html = site.page()
    limits = page_text(html[html.index('data-testid="overview-rate-limits"') :])

    # Business: Light and Medium have no daily cap; Heavy and Resource-intensive share one.
    assert "Light and Medium requests have no daily cap on the Business+ plan" in limits
    cap = limiter.budget(plan="business", label="Heavy").daily
    assert cap is not None
    assert f"Heavy and Resource-intensive 3 of {cap:,} (1%)" in limits
    assert f"{cap - 3:,} left today" in limits
    light = limiter.budget(plan="business", label="Light").per_window
    assert f"Light {light} per second" in limits
    assert "Resource-intensive" in limits
    assert "per minute" in limits


def test_a_429_shows_as_slowed(site: Site) -> None:
    limiter = RateLimiter(redis_client())
    limiter.penalize(account_id=site.account.zoom_id, plan="business", label="Light", retry_after=30)
    limits = page_text(site.page().split('data-testid="overview-rate-limits"')[1])
    assert "Paused after a 429" in limits


def test_free_plan_counts_every_label_against_a_daily_cap(site: Site) -> None:
    ZoomAccount.objects.filter(pk=site.account.pk).update(plan="free")
    limits = page_text(site.page().split('data-testid="overview-rate-limits"')[1])
    assert "no daily cap" not in limits
    for label in ("Light", "Medium", "Heavy", "Resource-intensive"):
        cap = RateLimiter(redis_client()).budget(plan="free", label=label).daily
        assert f"{label} 0 of {cap:,} (0%)" in limits


def test_when_redis_cannot_be_read_the_rest_of_the_page_still_shows(site: Site) -> None:
    # A limiter on a Redis nobody listens on: the page says so in a sentence instead of failing.
    from redis import Redis

    unreachable = RateLimiter(Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    overview = overview_collect(account=site.account, limiter=unreachable)
    assert overview.rate_limits is None
    assert overview.rate_limits_error.startswith("zoomadmin cannot read its rate-limit counters right now")
    assert overview.never_synced


def test_hostile_names_are_escaped_everywhere(
    site: Site, populated: SandboxAccount, mirror_sync: Callable[[ZoomAccount], SyncRun]
) -> None:
    mirror_sync(site.account)
    DirectoryUser.objects.filter(account=site.account).update(user_type=HOSTILE)
    DirectoryGroup.objects.filter(account=site.account, display_name=LONG[:200]).update(display_name=LONG)
    html = site.page()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Right-to-left and 300-character names are isolated and kept whole (the stylesheet wraps them).
    assert f"<bdi>{RTL}</bdi>" in html
    assert f"<bdi>{LONG}</bdi>" in html
    # Links built from Zoom's values are URL-encoded.
    assert "user_type=%3Cscript%3Ealert%281%29%3C%2Fscript%3E" in html


@pytest.mark.parametrize("people", [3, 40])
def test_the_page_costs_the_same_queries_for_any_account_size(
    site: Site,
    account_a: SandboxAccount,
    make_sandbox_user: Callable[..., SandboxUser],
    mirror_sync: Callable[[ZoomAccount], SyncRun],
    django_assert_max_num_queries: Callable[..., Any],
    people: int,
) -> None:
    members = [make_sandbox_user(account_a) for _ in range(people)]
    for n in range(people // 3 + 1):
        SandboxGroup.objects.create(account=account_a, display_name=f"Group {n}").members.set(members[: n + 1])
    mirror_sync(site.account)
    enrich_batch(account=site.account)
    for n in range(people):
        audit_record(
            account=site.account,
            actor=site.connection,
            action=AuditAction.USER_DEACTIVATE,
            target_type=AuditTarget.USER,
            target_zoom_id=f"u-{n}",
            target_label=f"u{n}@acme.example.com",
        )
        ChangeSet.objects.create(account=site.account, file_name=f"{n}.csv")
    # Session, person, connection (+ its save); users (2), groups (2), freshness (4), changes, jobs,
    # admins: 15, whatever the number of users, groups, events and jobs.
    with django_assert_max_num_queries(15):
        site.page()
    with django_assert_max_num_queries(15):
        site.page(**{"HX-Request": "true"})


def test_htmx_gets_the_content_only_and_the_answers_vary(
    site: Site, populated: SandboxAccount, mirror_sync: Callable[[ZoomAccount], SyncRun]
) -> None:
    mirror_sync(site.account)
    page = site.client.get(site.url)
    partial = site.client.get(site.url, headers={"HX-Request": "true"})
    assert "<html" in page.content.decode()
    body = partial.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="overview"')
    assert 'data-testid="overview-users"' in body
    assert "HX-Request" in page["Vary"]
    assert "HX-Request" in partial["Vary"]


def test_another_accounts_admin_gets_404(site: Site, admin_b: SandboxUser, signed_in: Callable[..., Client]) -> None:
    assert signed_in(admin_b).get(site.url).status_code == 404


# --- the helpers ---------------------------------------------------------------------------------


def test_donut_segments_cover_the_circle_from_the_top() -> None:
    slices = chart_donut([Datum("a", 1, tone="success"), Datum("b", 0, tone="neutral"), Datum("c", 3, tone="warning")])
    assert [s.dasharray for s in slices] == ["25.000 75.000", "0.000 100.000", "75.000 25.000"]
    assert [s.dashoffset for s in slices] == ["25.000", "0.000", "0.000"]
    assert [s.share for s in slices] == [25, 0, 75]


def test_bars_scale_to_the_largest_and_never_vanish() -> None:
    bars = chart_bars([Datum("a", 1000), Datum("b", 1), Datum("c", 0)])
    assert [b.width for b in bars] == ["100.00", "0.50", "0.00"]
    assert [b.share for b in bars] == [100, 1, 0]
    assert bars[0].display == "1,000"
    with pytest.raises(ValueError, match="unknown chart tone"):
        chart_bars([Datum("a", 1, tone="red; fill: url(x)")])


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.4, "under a second"), (1, "1 second"), (42, "42 seconds"), (133, "2 min 13 s"), (3900, "1 h 5 min")],
)
def test_durations_in_words(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words
