"""The users list: search, filters, sort, paging, hand-edited URLs, export, escaping and query counts.

The mirror is filled by a real sync pass from the in-process sandbox (`mirror_sync`); pages are
read through the Django test client signed in as account A's admin.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F, Func
from django.test import Client

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.directory.models import DirectoryUser, SyncRun
from zoomadmin.directory.search import SEARCH_FIELDS, UserFilters, users_search
from zoomadmin.imports.columns import header_key
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus

# The sync reads pages on several threads, each with its own database connection: commit for real.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]

HOSTILE = [
    '<script>alert("x")</script>',
    'O\'Brien "the quote" & <b>bold</b>',
    "\u202eevil\u202c שלום",
    "😀 Emoji Person",
    "L" * 200,
]
# Zoom (and the sandbox) keep display names to 200 characters; the mirror holds 300, and so must the pages.
LONG_NAME = "W" * 300


class Directory:
    """Account A mirrored: its ZoomAccount, the admin's connection and a signed-in client."""

    def __init__(self, account: ZoomAccount, connection: ZoomConnection, client: Client, sandbox: SandboxAccount):
        self.account = account
        self.connection = connection
        self.client = client
        self.sandbox = sandbox

    def url(self, tail: str = "") -> str:
        return f"/a/{self.account.zoom_id}/users/{tail}"


@pytest.fixture
def directory(
    account_a: SandboxAccount,
    admin_a: SandboxUser,
    sandbox_owner: SandboxUser,
    make_sandbox_user: Callable[..., SandboxUser],
    stored_connection: Callable[..., ZoomConnection],
    mirror_sync: Callable[[ZoomAccount], SyncRun],
) -> Directory:
    """Account A with a varied set of users and groups, synced into the mirror."""
    engineering = SandboxGroup.objects.create(account=account_a, display_name="Engineering")
    make_sandbox_user(
        account_a,
        user_name="jill.chill@acme.example.com",
        given_name="Jill",
        family_name="Chill",
        display_name="Jill Chill",
        department="Engineering",
        title="API Developer",
        employee_number="E-1001",
    )
    make_sandbox_user(
        account_a,
        user_name="bob.gone@acme.example.com",
        given_name="Bob",
        family_name="Gone",
        display_name="Bob Gone",
        department="Engineering",
        status=UserStatus.INACTIVE,
    )
    make_sandbox_user(
        account_a,
        user_name="carol.sales@acme.example.com",
        given_name="Carol",
        family_name="Sales",
        display_name="Carol Sales",
        department="Sales",
        status=UserStatus.INACTIVE,
        user_type="Licensed",
    )
    make_sandbox_user(account_a, user_name="percent@acme.example.com", display_name="100% Real_Name back\\slash")
    for n, name in enumerate(HOSTILE):
        make_sandbox_user(account_a, user_name=f"hostile{n}@acme.example.com", display_name=name, department=name[:200])
    engineering.members.set(SandboxUser.objects.filter(account=account_a, department="Engineering"))
    connection = stored_connection(admin_a)
    mirror_sync(connection.account)
    DirectoryUser.objects.filter(account=connection.account, email="hostile4@acme.example.com").update(
        display_name=LONG_NAME
    )
    client = Client()
    client.force_login(connection.user)
    session = client.session
    session[CURRENT_SESSION_KEY] = connection.pk
    session.save()
    # Opening Jill's page reads her full profile live, which fills her Get-user-only fields (title).
    jill = DirectoryUser.objects.get(account=connection.account, email="jill.chill@acme.example.com")
    assert client.get(f"/a/{connection.account.zoom_id}/users/{jill.zoom_id}/").status_code == 200
    return Directory(connection.account, connection, client, account_a)


def _emails(response: Any) -> list[str]:
    users = response.context["page_obj"].object_list
    return [user.email for user in users]


def test_list_shows_the_mirror_with_freshness(directory: Directory) -> None:
    response = directory.client.get(directory.url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "jill.chill@acme.example.com" in body
    assert re.search(r"Synced with Zoom <time [^>]*>just now</time>", body)  # not "0 minutes ago"
    assert (
        response.context["page_obj"].paginator.count == DirectoryUser.objects.filter(account=directory.account).count()
    )


def test_search_by_part_of_a_name_email_department_title_or_number(directory: Directory) -> None:
    for query in ("jil", "CHILL", "api dev", "e-1001", "jill engineering"):
        response = directory.client.get(directory.url(), {"q": query})
        assert _emails(response) == ["jill.chill@acme.example.com"], query


def test_filter_to_deactivated_users_in_one_department(directory: Directory) -> None:
    response = directory.client.get(directory.url(), {"status": "deactivated", "department": "Engineering"})
    assert _emails(response) == ["bob.gone@acme.example.com"]
    response = directory.client.get(directory.url(), {"status": "inactive", "user_type": "Licensed"})
    assert _emails(response) == ["carol.sales@acme.example.com"]


def test_group_and_role_filters(directory: Directory) -> None:
    group = directory.account.directory_groups.get(display_name="Engineering")
    response = directory.client.get(directory.url(), {"group": group.zoom_id, "sort": "email"})
    assert _emails(response) == ["bob.gone@acme.example.com", "jill.chill@acme.example.com"]
    response = directory.client.get(directory.url(), {"role": "Owner"})
    assert _emails(response) == ["owner@acme.example.com"]


def test_sort_both_ways(directory: Directory) -> None:
    ascending = _emails(directory.client.get(directory.url(), {"sort": "email", "per_page": "100"}))
    descending = _emails(directory.client.get(directory.url(), {"sort": "-email", "per_page": "100"}))
    assert ascending == sorted(ascending)
    assert descending == list(reversed(ascending))


@pytest.mark.parametrize(
    "params",
    [
        {"status": "sleeping"},
        {"role": "Emperor"},
        {"license": "zoomTeleport"},
        {"group": "no-such-group"},
        {"sort": "password"},
        {"per_page": "1000000"},
        {"per_page": "-5"},
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"page": "abc"},
        {"q": "%"},
        {"q": "_"},
        {"q": "\\"},
        {"q": "'\""},
        {"q": "x" * 5000},
        {"q": "\x00"},
        {"department": "Nowhere"},
    ],
)
def test_hand_edited_urls_never_fail(directory: Directory, params: dict[str, str]) -> None:
    response = directory.client.get(directory.url(), params)
    assert response.status_code == 200
    htmx = directory.client.get(directory.url(), params, headers={"HX-Request": "true"})
    assert htmx.status_code == 200


def test_wildcards_match_literally(directory: Directory) -> None:
    assert _emails(directory.client.get(directory.url(), {"q": "100%"})) == ["percent@acme.example.com"]
    assert _emails(directory.client.get(directory.url(), {"q": "real_name"})) == ["percent@acme.example.com"]
    assert _emails(directory.client.get(directory.url(), {"q": "k\\sl"})) == ["percent@acme.example.com"]
    assert _emails(directory.client.get(directory.url(), {"q": "%%"})) == []
    assert _emails(directory.client.get(directory.url(), {"q": "j_ll"})) == []
    assert _emails(directory.client.get(directory.url(), {"q": "k\\%"})) == []


def test_one_or_two_letters_match_the_start_of_a_name_or_email(directory: Directory) -> None:
    assert "jill.chill@acme.example.com" in _emails(directory.client.get(directory.url(), {"q": "ji"}))
    assert "jill.chill@acme.example.com" in _emails(directory.client.get(directory.url(), {"q": "c"}))
    # "il" is inside "Jill" but starts no name or email.
    assert "jill.chill@acme.example.com" not in _emails(directory.client.get(directory.url(), {"q": "il"}))
    assert _emails(directory.client.get(directory.url(), {"q": "jill c"})) == ["jill.chill@acme.example.com"]


def test_unknown_values_are_explained_and_ignored(directory: Directory) -> None:
    response = directory.client.get(directory.url(), {"status": "sleeping", "per_page": "1000000"})
    body = response.content.decode()
    assert "Ignored “Status”" in body
    assert "Showing 25 per page" in body
    assert response.context["page_obj"].paginator.per_page == 25
    # The ignored filter narrows nothing.
    assert (
        response.context["page_obj"].paginator.count == DirectoryUser.objects.filter(account=directory.account).count()
    )


def test_page_past_the_end_shows_the_last_page(directory: Directory) -> None:
    response = directory.client.get(directory.url(), {"per_page": "25", "page": "999"})
    page = response.context["page_obj"]
    assert page.number == page.paginator.num_pages


def test_htmx_gets_only_the_results(directory: Directory) -> None:
    response = directory.client.get(directory.url(), {"q": "jill"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'data-testid="user-results"' in body
    assert "<html" not in body
    assert 'id="user-filters"' not in body
    # One URL, two renderings: the browser must not serve the partial when the page itself is loaded.
    assert "HX-Request" in response["Vary"]


def test_hostile_names_render_escaped(directory: Directory) -> None:
    for params in ({}, {"q": "hostile"}, {"department": HOSTILE[0]}):
        body = directory.client.get(directory.url(), {**params, "per_page": "100"}).content.decode()
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
        assert "<b>bold</b>" not in body
        assert "\u202eevil" in body
    user = DirectoryUser.objects.get(account=directory.account, email="hostile0@acme.example.com")
    body = directory.client.get(directory.url(f"{user.zoom_id}/")).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert" in body


def test_list_query_count_does_not_grow_with_rows(
    directory: Directory, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    # Session, user, connection, account save; count, page, facets (3), freshness (4): bounded, no N+1.
    with django_assert_max_num_queries(16):
        directory.client.get(directory.url(), {"per_page": "100"})
    with django_assert_max_num_queries(8):
        directory.client.get(directory.url(), {"per_page": "100", "q": "a"}, headers={"HX-Request": "true"})


def test_export_is_the_import_format_and_formula_safe(directory: Directory) -> None:
    DirectoryUser.objects.filter(account=directory.account, email="jill.chill@acme.example.com").update(
        title='=HYPERLINK("http://evil")'
    )
    response = directory.client.get(directory.url("export.csv"), {"department": "Engineering", "sort": "email"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="users-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, *data = rows
    assert header[:3] == ["Email", "First Name", "Last Name"]
    # Every column is one the bulk import recognises (its header aliases), so the file imports back.
    from zoomadmin.imports.columns import ALIASES

    known = {header_key(alias) for aliases in ALIASES.values() for alias in aliases}
    assert all(header_key(name) in known for name in header)
    emails = [row[0] for row in data]
    assert emails == ["bob.gone@acme.example.com", "jill.chill@acme.example.com"]
    jill = dict(zip(header, data[1], strict=True))
    assert jill["Groups"] == "Engineering"
    assert jill["Job Title"].startswith("'=")


def test_export_of_ticked_rows_only(directory: Directory) -> None:
    jill = DirectoryUser.objects.get(account=directory.account, email="jill.chill@acme.example.com")
    response = directory.client.get(directory.url("export.csv"), {"id": [jill.zoom_id, "someone-else"]})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == ["jill.chill@acme.example.com"]


def test_owner_and_admin_are_marked(directory: Directory) -> None:
    body = directory.client.get(directory.url(), {"role": "Owner"}).content.decode()
    assert "badge-owner" in body
    assert Role.OWNER == "Owner"


def test_stored_search_text_is_the_search_expression(directory: Directory) -> None:
    """On PostgreSQL the search reads a stored column (migration 0003); it must hold SearchText's expression."""
    if connection.vendor != "postgresql":
        pytest.skip("the stored column exists on PostgreSQL only")
    computed = DirectoryUser.objects.filter(account=directory.account).annotate(
        computed=Func(*(F(name) for name in SEARCH_FIELDS), template="LOWER(%(expressions)s)", arg_joiner=" || ' ' || ")
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, search_text FROM directory_directoryuser")
        stored = dict(cursor.fetchall())
    assert stored
    for user in computed:
        assert stored[user.pk] == user.computed
    # The planner can answer a search from the trigram index (not only by reading every row).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = users_search(directory.account, UserFilters(q="chill")).explain()
    assert "directoryuser_search" in plan
