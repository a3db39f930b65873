"""SCIM2 list operations: Zoom's few `eq` filters, 1-based paging and the reduced user projection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ZOOM_USER = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ZOOM_LICENSE = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User"


@pytest.fixture
def many_users(
    sandbox_account: SandboxAccount, sandbox_owner: SandboxUser, make_sandbox_user: Callable[..., SandboxUser]
) -> list[SandboxUser]:
    """The owner plus 24 members, oldest first."""
    return [sandbox_owner] + [make_sandbox_user(sandbox_account) for _ in range(24)]


def user_names(listed: dict[str, Any]) -> list[str]:
    return [user["userName"] for user in listed["Resources"]]


# --- paging ----------------------------------------------------------------------------------------


def test_first_page_uses_the_default_count(scim: httpx2.Client, many_users: list[SandboxUser]) -> None:
    listed = scim.get("/scim2/Users").json()
    assert listed["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert listed["totalResults"] == 25
    assert listed["startIndex"] == 1
    assert listed["itemsPerPage"] == 10
    assert user_names(listed) == [user.user_name for user in many_users[:10]]


def test_pages_are_stable_and_cover_everyone_once(scim: httpx2.Client, many_users: list[SandboxUser]) -> None:
    seen: list[str] = []
    for start in (1, 8, 15, 22):
        listed = scim.get("/scim2/Users", params={"startIndex": start, "count": 7}).json()
        assert listed["startIndex"] == start
        seen += user_names(listed)
    assert seen == [user.user_name for user in many_users]


@pytest.mark.parametrize("start", ["0", "-5"])
def test_start_index_below_one_counts_as_one(scim: httpx2.Client, many_users: list[SandboxUser], start: str) -> None:
    listed = scim.get("/scim2/Users", params={"startIndex": start, "count": 2}).json()
    assert listed["startIndex"] == 1
    assert user_names(listed) == [many_users[0].user_name, many_users[1].user_name]


def test_count_is_capped_by_the_account(
    scim: httpx2.Client, sandbox_account: SandboxAccount, many_users: list[SandboxUser]
) -> None:
    sandbox_account.page_max_count = 5
    sandbox_account.page_default_count = 3
    sandbox_account.save()
    assert scim.get("/scim2/Users", params={"count": 500}).json()["itemsPerPage"] == 5
    assert scim.get("/scim2/Users").json()["itemsPerPage"] == 3


def test_count_zero_answers_only_the_total(scim: httpx2.Client, many_users: list[SandboxUser]) -> None:
    listed = scim.get("/scim2/Users", params={"count": 0}).json()
    assert listed["totalResults"] == 25
    assert listed["itemsPerPage"] == 0
    assert listed["Resources"] == []


def test_past_the_end_is_empty(scim: httpx2.Client, many_users: list[SandboxUser]) -> None:
    listed = scim.get("/scim2/Users", params={"startIndex": 26}).json()
    assert listed["totalResults"] == 25
    assert listed["Resources"] == []
    last = scim.get("/scim2/Users", params={"startIndex": 25}).json()
    assert user_names(last) == [many_users[-1].user_name]


def test_non_numeric_paging_is_400(scim: httpx2.Client) -> None:
    response = scim.get("/scim2/Users", params={"startIndex": "one"})
    assert response.status_code == 400
    assert "startIndex" in response.json()["detail"]


def test_list_users_is_a_constant_number_of_queries(
    scim: httpx2.Client,
    sandbox_account: SandboxAccount,
    many_users: list[SandboxUser],
    django_assert_max_num_queries: Any,
) -> None:
    groups = [SandboxGroup.objects.create(account=sandbox_account, display_name=f"G{n}") for n in range(3)]
    for user in many_users:
        for group in groups:
            group.members.add(user)
    # Token lookup + COUNT + page + groups prefetch, whatever the page size.
    with django_assert_max_num_queries(4):
        listed = scim.get("/scim2/Users", params={"count": 25}).json()
    assert len(listed["Resources"]) == 25
    # Token lookup + COUNT + page.
    with django_assert_max_num_queries(3):
        assert len(scim.get("/scim2/Groups").json()["Resources"]) == 4


# --- projection ------------------------------------------------------------------------------------


def test_list_users_is_the_reduced_projection(
    scim: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    make_sandbox_user(
        sandbox_account,
        department="Engineering",
        organization="Acme",
        cost_center="CC-1",
        manager="boss@acme.example.com",
        employee_number="E1",
        zoom_extension={"zoomHuddles": True},
    )
    listed = scim.get("/scim2/Users").json()
    user = listed["Resources"][-1]
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, ZOOM_USER]
    assert ZOOM_LICENSE not in user
    assert user[ENTERPRISE] == {"department": "Engineering", "employeeNumber": "E1"}
    assert user[ZOOM_USER] == {"loginType": {"workEmail": False, "sso": True}}
    assert user["meta"]["location"] == f"http://sandbox.test/scim2/Users/{user['id']}"


def test_pending_users_are_listed_inactive(scim: httpx2.Client, sandbox_pending: SandboxUser) -> None:
    listed = scim.get("/scim2/Users").json()
    pending = [user for user in listed["Resources"] if user["id"] == sandbox_pending.zoom_id]
    assert pending[0]["active"] is False


# --- filters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter_text",
    [
        'userName eq "member@acme.example.com"',
        "userName eq member@acme.example.com",
        'USERNAME EQ "Member@ACME.example.com"',
        '  username eq "member@acme.example.com"  ',
    ],
)
def test_user_name_filter(scim: httpx2.Client, sandbox_member: SandboxUser, filter_text: str) -> None:
    listed = scim.get("/scim2/Users", params={"filter": filter_text}).json()
    assert listed["totalResults"] == 1
    assert listed["Resources"][0]["id"] == sandbox_member.zoom_id


def test_user_name_filter_case_sensitive_when_the_knob_is_off(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_member: SandboxUser
) -> None:
    sandbox_account.filter_case_insensitive = False
    sandbox_account.save()
    assert (
        scim.get("/scim2/Users", params={"filter": "userName eq MEMBER@acme.example.com"}).json()["totalResults"] == 0
    )
    assert (
        scim.get("/scim2/Users", params={"filter": "userName eq member@acme.example.com"}).json()["totalResults"] == 1
    )


def test_external_id_filter_matches_the_zoom_id(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    listed = scim.get("/scim2/Users", params={"filter": f'externalId eq "{sandbox_member.zoom_id}"'}).json()
    assert [user["id"] for user in listed["Resources"]] == [sandbox_member.zoom_id]


def test_unknown_email_is_an_empty_list(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    response = scim.get("/scim2/Users", params={"filter": 'userName eq "nobody@acme.example.com"'})
    assert response.status_code == 200
    assert response.json()["totalResults"] == 0
    assert response.json()["Resources"] == []


def test_user_name_filter_on_a_pending_user_is_400(scim: httpx2.Client, sandbox_pending: SandboxUser) -> None:
    response = scim.get("/scim2/Users", params={"filter": 'userName eq "invited@acme.example.com"'})
    assert response.status_code == 400
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": "User invited@acme.example.com not exist or not belong to this account.",
        "status": 400,
    }


def test_pending_user_filter_answers_200_when_the_knob_is_off(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_pending: SandboxUser
) -> None:
    sandbox_account.pending_username_filter_400 = False
    sandbox_account.save()
    listed = scim.get("/scim2/Users", params={"filter": 'userName eq "invited@acme.example.com"'}).json()
    assert listed["Resources"][0]["active"] is False


@pytest.mark.parametrize(
    "filter_text",
    [
        'displayName eq "Jill"',
        'userName co "acme"',
        'userName sw "member"',
        'userName eq "a@acme.example.com" and active eq true',
        'userName eq "a@acme.example.com" or userName eq "b@acme.example.com"',
        "userName eq a@acme.example.com or userName eq b@acme.example.com",
        "userName pr",
        "garbage",
        'userName eq "unterminated',
        "",
    ],
)
def test_unsupported_user_filters_are_400(scim: httpx2.Client, sandbox_member: SandboxUser, filter_text: str) -> None:
    response = scim.get("/scim2/Users", params={"filter": filter_text})
    assert response.status_code == 400
    assert response.json()["detail"] == f"The current filter does not support the filter name: {filter_text}"


def test_group_display_name_filter(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    SandboxGroup.objects.create(account=sandbox_account, display_name='Sales "EMEA"')
    SandboxGroup.objects.create(account=sandbox_account, display_name="Sales")

    quoted = scim.get("/scim2/Groups", params={"filter": r'displayName eq "sales \"emea\""'}).json()
    assert [group["displayName"] for group in quoted["Resources"]] == ['Sales "EMEA"']
    bare = scim.get("/scim2/Groups", params={"filter": "displayName eq Sales"}).json()
    assert [group["displayName"] for group in bare["Resources"]] == ["Sales"]


@pytest.mark.parametrize("filter_text", ['userName eq "a@b.c"', 'displayName ne "Sales"', "displayName eq"])
def test_unsupported_group_filters_are_400(scim: httpx2.Client, filter_text: str) -> None:
    response = scim.get("/scim2/Groups", params={"filter": filter_text})
    assert response.status_code == 400
    assert response.json()["detail"] == f"The current filter does not support the filter name: {filter_text}"


def test_group_paging(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    for n in range(4):
        SandboxGroup.objects.create(account=sandbox_account, display_name=f"Team {n}")
    listed = scim.get("/scim2/Groups", params={"startIndex": 2, "count": 2}).json()
    assert listed["totalResults"] == 5
    assert [group["displayName"] for group in listed["Resources"]] == ["Team 0", "Team 1"]


def test_quoted_values_follow_json_string_escapes(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    SandboxGroup.objects.create(account=sandbox_account, display_name="Café \\ Bar")
    listed = scim.get("/scim2/Groups", params={"filter": r'displayName eq "Caf\u00e9 \\ Bar"'}).json()
    assert [group["displayName"] for group in listed["Resources"]] == ["Café \\ Bar"]
