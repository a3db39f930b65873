"""The users list's search count stops at a cap (PostgreSQL): "More than N users match", pages that
still come in the exact sort order, no total or last page anywhere, and SQLite counting everything.

`search.COUNT_CAP` is lowered to a few users so a handful of mirrored users cross it. The mirror
is filled by a real sync pass from the in-process sandbox; its rows are written in the reverse
order of their names, so the first candidates the search finds are the last ones in the name
order (a page sorted from those candidates alone would be wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory import search
from zoomadmin.directory.models import DirectoryUser, SyncRun
from zoomadmin.directory.search import UserFilters, users_page, users_search
from zoomadmin.directory.views import LIST_FIELDS
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser

# The sync reads pages on several threads, each with its own database connection: commit for real.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]

FIRST = ["Ana", "Bea", "Cai", "Dev", "Eli", "Fay", "Gus", "Hal", "Ida", "Jo"]
LAST = ["Quist", "Roe", "Stone"]
TEAMS = ["North", "South", "East"]
# Thirty users match "research"; the list shows 25 a page.
MATCHING = len(FIRST) * len(LAST)
PAGE = 25


class Mirror:
    """Account A's mirror with MATCHING researchers, and a client signed in as its admin."""

    def __init__(self, account: ZoomAccount, client: Client):
        self.account = account
        self.client = client

    def url(self) -> str:
        return f"/a/{self.account.zoom_id}/users/"

    def get(self, **params: str) -> Any:
        return self.client.get(self.url(), {"q": "research", **params}, headers={"HX-Request": "true"})


@pytest.fixture
def mirror(
    account_a: SandboxAccount,
    admin_a: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
    stored_connection: Callable[..., ZoomConnection],
    mirror_sync: Callable[[ZoomAccount], SyncRun],
) -> Mirror:
    names = [(first, last) for first in FIRST for last in LAST]
    for n, (first, last) in enumerate(reversed(names)):
        make_sandbox_user(
            account_a,
            user_name=f"{first}.{last}.{n}@acme.example.com".lower(),
            given_name=first,
            family_name=last,
            display_name=f"{first} {last}",
            department=f"Research {TEAMS[n % len(TEAMS)]}",
        )
    zoom_connection = stored_connection(admin_a)
    mirror_sync(zoom_connection.account)
    client = Client()
    client.force_login(zoom_connection.user)
    session = client.session
    session[CURRENT_SESSION_KEY] = zoom_connection.pk
    session.save()
    return Mirror(zoom_connection.account, client)


def _in_order(account: ZoomAccount, sort: str) -> list[str]:
    """Every researcher's email in the sort order, from the plain (uncapped) ORDER BY."""
    return list(users_search(account, UserFilters(q="research", sort=sort)).values_list("email", flat=True))


def _emails(response: Any) -> list[str]:
    return [user.email for user in response.context["page_obj"].object_list]


def _postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the count is capped on PostgreSQL only")


@pytest.mark.postgres
def test_a_capped_count_says_more_than_the_cap(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    _postgres()
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    response = mirror.get()
    body = response.content.decode()
    assert response.status_code == 200
    assert "More than 5 users match" in body
    assert "Refine the search to see an exact count." in body
    assert "Export all matching to CSV" in body
    assert "Change all matching…" in body
    # Nothing shows the paginator's stand-in count (the cap + 1), a total or a last page.
    assert "1\N{EN DASH}25 of more than 5 users" in body
    assert "Page 1<" in body
    assert " of 2" not in body
    assert f"{MATCHING} users" not in body
    assert f"of {MATCHING}" not in body
    assert 'aria-label="Last page"' not in body
    assert "»</span>" not in body
    assert 'rel="next">Next</a>' in body
    assert _emails(response) == _in_order(mirror.account, "name")[:PAGE]


@pytest.mark.postgres
def test_the_cap_is_written_with_a_thousands_separator(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    _postgres()
    DirectoryUser.objects.bulk_create(
        DirectoryUser(
            account=mirror.account,
            zoom_id=f"bulk-{n}",
            user_name=f"bulk{n}@acme.example.com",
            email=f"bulk{n}@acme.example.com",
            display_name=f"Bulk {n}",
            department="Research",
        )
        for n in range(1_001)
    )
    monkeypatch.setattr(search, "COUNT_CAP", 1_000)
    body = mirror.get().content.decode()
    assert "More than 1,000 users match" in body
    assert "1\N{EN DASH}25 of more than 1,000 users" in body


@pytest.mark.postgres
@pytest.mark.parametrize("sort", ["name", "-name", "email", "-email", "department", "-department", "title", "-role"])
def test_capped_pages_hold_the_first_users_in_the_sort_order(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    """Pages of 3 with a cap of 5: pages 1 and 2 lie among the capped count's candidates (the page
    is bounded by their sort key), pages 3 on beyond them; all must be the exact sort order."""
    _postgres()
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    expected = _in_order(mirror.account, sort)
    filters = UserFilters(q="research", sort=sort)
    for number in range(1, MATCHING // 3 + 1):
        page = users_page(mirror.account, filters, number=str(number), per_page=3, fields=LIST_FIELDS)
        assert page.capped, number
        assert page.number == number
        assert [user.email for user in page] == expected[(number - 1) * 3 : number * 3], number
        assert page.has_next()
        assert page.next_page_number() == number + 1
        assert (page.start_index(), page.end_index()) == ((number - 1) * 3 + 1, number * 3)
    # One past the last match: counted after all, and shown as the last page.
    page = users_page(mirror.account, filters, number=str(MATCHING // 3 + 1), per_page=3, fields=LIST_FIELDS)
    assert not page.capped
    assert page.paginator.count == MATCHING
    assert page.number == MATCHING // 3
    assert [user.email for user in page] == expected[-3:]


@pytest.mark.postgres
def test_a_page_beyond_the_cap_in_the_list(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    _postgres()
    monkeypatch.setattr(search, "COUNT_CAP", 26)
    for sort in ("name", "-name"):
        first = mirror.get(sort=sort)
        assert first.context["page_obj"].capped
        assert _emails(first) == _in_order(mirror.account, sort)[:PAGE]
        # The second page ends the matches, so its count is exact.
        second = mirror.get(sort=sort, page="2")
        body = second.content.decode()
        assert not second.context["page_obj"].capped
        assert f"{MATCHING} users match" in body
        assert "Page 2 of 2" in body
        assert _emails(second) == _in_order(mirror.account, sort)[PAGE:]


def test_below_the_cap_the_count_is_exact(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "COUNT_CAP", MATCHING)
    response = mirror.get(sort="-name")
    body = response.content.decode()
    assert not response.context["page_obj"].capped
    assert f"{MATCHING} users match" in body
    assert f"Export all {MATCHING} to CSV" in body
    assert f"Change all {MATCHING} matching…" in body
    assert "Page 1 of 2" in body
    assert 'aria-label="Last page"' in body
    assert "Refine the search" not in body
    assert _emails(response) == _in_order(mirror.account, "-name")[:PAGE]


def test_sqlite_counts_every_match(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite (the demo) has no cap: its counts stay exact whatever COUNT_CAP says."""
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    response = mirror.get()
    page = response.context["page_obj"]
    assert page.capped == (connection.vendor == "postgresql")
    if connection.vendor != "postgresql":
        assert page.paginator.count == MATCHING
        assert f"{MATCHING} users match" in response.content.decode()


@pytest.mark.parametrize("number", ["2", "3", "999", "99999999999999999999", "-1", "abc", "0"])
def test_hand_edited_pages_while_capped_never_fail(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, number: str
) -> None:
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    for sort in ("name", "-title"):
        response = mirror.get(page=number, sort=sort)
        assert response.status_code == 200
        page = response.context["page_obj"]
        assert page.number in (1, 2)
        assert _emails(response) == _in_order(mirror.account, sort)[(page.number - 1) * PAGE :][:PAGE]
        full = mirror.client.get(mirror.url(), {"q": "research", "page": number, "sort": sort})
        assert full.status_code == 200


def test_export_and_bulk_links_keep_every_match(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    response = mirror.client.get(f"{mirror.url()}export.csv", {"q": "research"})
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + MATCHING
    assert DirectoryUser.objects.filter(account=mirror.account, department__startswith="Research").count() == MATCHING


def test_capped_list_query_count_is_bounded(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    # Session, user, connection; the capped count, the bounded page (BEGIN, two SET LOCAL, the
    # query, COMMIT) and the page's rows by primary key: 10 whatever the page size, no N+1.
    monkeypatch.setattr(search, "COUNT_CAP", 26)
    with django_assert_max_num_queries(10):
        response = mirror.get(sort="department")
    assert response.context["page_obj"].capped == (connection.vendor == "postgresql")
    assert len(_emails(response)) == PAGE
