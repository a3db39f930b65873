"""The sandbox's SCIM2 group operations: create, get, list, PATCH (members, rename), delete."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from tests.conftest import SANDBOX_BASE_URL
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser
from zoomadmin.sandbox.transport import sandbox_transport

CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ZOOM_GROUP = "urn:ietf:params:scim:schemas:extension:zoom:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def member_ids(scim: httpx2.Client, group: SandboxGroup) -> list[str]:
    return [member["value"] for member in scim.get(f"/scim2/Groups/{group.zoom_id}").json()["members"]]


@pytest.fixture
def sales(sandbox_account: SandboxAccount) -> SandboxGroup:
    return SandboxGroup.objects.create(
        account=sandbox_account, display_name="Sales", email_alias="sales@acme.example.com"
    )


@pytest.fixture
def globex(make_sandbox_account: Callable[..., SandboxAccount]) -> SandboxAccount:
    return make_sandbox_account(name="Globex", vanity_domain="globex.example.com")


@pytest.fixture
def globex_scim(
    globex: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser], make_token: Callable[..., str]
) -> Iterator[httpx2.Client]:
    owner = make_sandbox_user(globex, user_name="owner@globex.example.com", role=Role.OWNER)
    headers = {"Authorization": f"Bearer {make_token(globex, owner)}"}
    with httpx2.Client(transport=sandbox_transport(), base_url=SANDBOX_BASE_URL, headers=headers) as client:
        yield client


# --- create ----------------------------------------------------------------------------------------


def test_create_group_answers_201(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    response = scim.post(
        "/scim2/Groups",
        json={
            "schemas": [CORE_GROUP, ZOOM_GROUP],
            "displayName": "Engineering",
            ZOOM_GROUP: {"emailAlias": "eng@acme.example.com"},
            "members": [{"value": sandbox_member.zoom_id}],
        },
    )

    assert response.status_code == 201
    group = response.json()
    assert group["schemas"] == [CORE_GROUP, ZOOM_GROUP]
    assert group["displayName"] == "Engineering"
    assert group[ZOOM_GROUP] == {"emailAlias": "eng@acme.example.com"}
    assert group["meta"]["resourceType"] == "Group"
    assert group["meta"]["location"] == f"http://sandbox.test/scim2/Groups/{group['id']}"
    assert response.headers["Location"] == group["meta"]["location"]
    assert group["members"] == [{"value": sandbox_member.zoom_id, "display": sandbox_member.user_name}]
    assert scim.get(f"/scim2/Groups/{group['id']}").json() == group


@pytest.mark.parametrize("name", [None, "", "   ", 42])
def test_create_group_needs_a_display_name(scim: httpx2.Client, name: Any) -> None:
    body: dict[str, Any] = {"schemas": [CORE_GROUP]}
    if name is not None:
        body["displayName"] = name
    response = scim.post("/scim2/Groups", json=body)
    assert response.status_code == 400
    assert response.json()["detail"] == 'The "DisplayName" of the request is invalid.'


def test_create_group_with_a_used_name_is_409(scim: httpx2.Client, sales: SandboxGroup) -> None:
    response = scim.post("/scim2/Groups", json={"schemas": [CORE_GROUP], "displayName": "sales"})
    assert response.status_code == 409
    assert response.json()["detail"] == "Group name sales is already in use."
    assert SandboxGroup.objects.filter(display_name__iexact="sales").count() == 1


def test_duplicate_group_names_allowed_when_the_knob_is_off(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sales: SandboxGroup
) -> None:
    sandbox_account.duplicate_group_name_409 = False
    sandbox_account.save()
    response = scim.post("/scim2/Groups", json={"schemas": [CORE_GROUP], "displayName": "Sales"})
    assert response.status_code == 201
    assert SandboxGroup.objects.filter(account=sandbox_account, display_name="Sales").count() == 2


def test_same_group_name_in_another_account_is_fine(globex_scim: httpx2.Client, sales: SandboxGroup) -> None:
    response = globex_scim.post("/scim2/Groups", json={"schemas": [CORE_GROUP], "displayName": "Sales"})
    assert response.status_code == 201


def test_create_group_refuses_empty_json(scim: httpx2.Client) -> None:
    response = scim.post("/scim2/Groups", json={})
    assert response.status_code == 400
    assert response.json()["detail"] == "The request JSON must not be empty."


# --- get -------------------------------------------------------------------------------------------


def test_get_group_with_members(scim: httpx2.Client, sales: SandboxGroup, sandbox_member: SandboxUser) -> None:
    sales.members.add(sandbox_member)
    group = scim.get(f"/scim2/Groups/{sales.zoom_id}").json()
    assert group["displayName"] == "Sales"
    assert group[ZOOM_GROUP]["emailAlias"] == "sales@acme.example.com"
    assert group["members"] == [{"value": sandbox_member.zoom_id, "display": "member@acme.example.com"}]


def test_get_group_without_members_when_the_knob_is_off(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sales: SandboxGroup, sandbox_member: SandboxUser
) -> None:
    sandbox_account.group_get_includes_members = False
    sandbox_account.save()
    sales.members.add(sandbox_member)
    assert "members" not in scim.get(f"/scim2/Groups/{sales.zoom_id}").json()


def test_get_unknown_group_is_404(scim: httpx2.Client) -> None:
    response = scim.get("/scim2/Groups/nosuchgroup")
    assert response.status_code == 404
    assert response.json()["detail"] == "Group does not exist."


def test_list_groups_never_has_members(scim: httpx2.Client, sales: SandboxGroup, sandbox_member: SandboxUser) -> None:
    sales.members.add(sandbox_member)
    listed = scim.get("/scim2/Groups").json()
    assert [group["displayName"] for group in listed["Resources"]] == ["Default group", "Sales"]
    assert all("members" not in group for group in listed["Resources"])


# --- PATCH -----------------------------------------------------------------------------------------


def test_patch_adds_and_removes_members(
    scim: httpx2.Client, sales: SandboxGroup, sandbox_member: SandboxUser, sandbox_admin: SandboxUser
) -> None:
    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}",
        json=patch(
            {
                "op": "add",
                "path": "members",
                "value": [{"value": sandbox_member.zoom_id}, {"value": sandbox_admin.zoom_id}],
            }
        ),
    )
    assert response.status_code == 204
    assert response.content == b""
    assert sorted(member_ids(scim, sales)) == sorted([sandbox_member.zoom_id, sandbox_admin.zoom_id])

    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}",
        json=patch({"op": "remove", "path": f'members[value eq "{sandbox_member.zoom_id}"]'}),
    )
    assert response.status_code == 204
    assert member_ids(scim, sales) == [sandbox_admin.zoom_id]

    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}",
        json=patch({"op": "remove", "path": "members", "value": [{"value": sandbox_admin.zoom_id}]}),
    )
    assert response.status_code == 204
    assert member_ids(scim, sales) == []


def test_patch_replace_members_sets_the_full_list(
    scim: httpx2.Client, sales: SandboxGroup, sandbox_member: SandboxUser, sandbox_admin: SandboxUser
) -> None:
    sales.members.add(sandbox_member)
    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}",
        json=patch({"op": "replace", "path": "members", "value": [{"value": sandbox_admin.zoom_id}]}),
    )
    assert response.status_code == 204
    assert member_ids(scim, sales) == [sandbox_admin.zoom_id]
    # The membership shows on the user too.
    admin = scim.get(f"/scim2/Users/{sandbox_admin.zoom_id}").json()
    assert admin["groups"] == {"value": sales.zoom_id, "display": "Sales"}


def test_patch_renames_and_changes_email_alias(scim: httpx2.Client, sales: SandboxGroup) -> None:
    path = f"/scim2/Groups/{sales.zoom_id}"
    assert (
        scim.patch(path, json=patch({"op": "replace", "path": "displayName", "value": "Field Sales"})).status_code
        == 204
    )
    assert scim.get(path).json()["displayName"] == "Field Sales"

    assert scim.patch(path, json=patch({"op": "replace", "value": {"displayName": "Inside Sales"}})).status_code == 204
    assert scim.get(path).json()["displayName"] == "Inside Sales"

    assert (
        scim.patch(
            path, json=patch({"op": "replace", "path": "emailAlias", "value": "inside@acme.example.com"})
        ).status_code
        == 204
    )
    group = scim.get(path).json()
    assert group[ZOOM_GROUP]["emailAlias"] == "inside@acme.example.com"
    assert group["meta"]["version"] == 'W/"4"'


def test_patch_rename_to_a_used_name_is_409(scim: httpx2.Client, sales: SandboxGroup) -> None:
    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}", json=patch({"op": "replace", "path": "displayName", "value": "Default group"})
    )
    assert response.status_code == 409
    sales.refresh_from_db()
    assert sales.display_name == "Sales"


def test_patch_with_unknown_users_names_them_and_changes_nothing(
    scim: httpx2.Client,
    sales: SandboxGroup,
    sandbox_member: SandboxUser,
    globex: SandboxAccount,
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    outsider = make_sandbox_user(globex)
    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}",
        json=patch(
            {"op": "replace", "path": "displayName", "value": "Renamed"},
            {
                "op": "add",
                "path": "members",
                "value": [{"value": sandbox_member.zoom_id}, {"value": "ghost"}, {"value": outsider.zoom_id}],
            },
        ),
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "ghost" in detail
    assert outsider.zoom_id in detail
    assert sandbox_member.zoom_id not in detail
    # All or nothing: neither the rename nor the valid member were applied.
    assert member_ids(scim, sales) == []
    sales.refresh_from_db()
    assert sales.display_name == "Sales"


@pytest.mark.parametrize(
    ("body", "detail_part"),
    [
        ({"Operations": [{"op": "add", "path": "members", "value": []}]}, "schemas"),
        ({"schemas": [PATCH_OP]}, "Operations"),
        ({"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "members", "value": []}]}, "op"),
        ({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "owner", "value": "x"}]}, "owner"),
        ({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": "abc"}]}, "members"),
        (
            {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": " "}]},
            "DisplayName",
        ),
    ],
)
def test_patch_rejects_malformed_bodies(
    scim: httpx2.Client, sales: SandboxGroup, body: dict[str, Any], detail_part: str
) -> None:
    response = scim.patch(f"/scim2/Groups/{sales.zoom_id}", json=body)
    assert response.status_code == 400
    assert detail_part in response.json()["detail"]


def test_patch_body_over_100000_characters_is_400(scim: httpx2.Client, sales: SandboxGroup) -> None:
    body = patch({"op": "add", "path": "members", "value": [{"value": "x" * 22} for _ in range(5000)]})
    raw = json.dumps(body)
    assert len(raw) > 100_000
    response = scim.patch(
        f"/scim2/Groups/{sales.zoom_id}", content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "100000" in response.json()["detail"]


def test_another_accounts_group_cannot_be_seen_or_changed(globex_scim: httpx2.Client, sales: SandboxGroup) -> None:
    path = f"/scim2/Groups/{sales.zoom_id}"
    assert globex_scim.get(path).status_code == 404
    assert (
        globex_scim.patch(path, json=patch({"op": "replace", "path": "displayName", "value": "X"})).status_code == 404
    )
    assert globex_scim.delete(path).status_code == 404
    listed = globex_scim.get("/scim2/Groups", params={"filter": 'displayName eq "Sales"'}).json()
    assert listed["totalResults"] == 0
    sales.refresh_from_db()
    assert sales.display_name == "Sales"


# --- delete ----------------------------------------------------------------------------------------


def test_delete_group(scim: httpx2.Client, sales: SandboxGroup, sandbox_member: SandboxUser) -> None:
    sales.members.add(sandbox_member)
    response = scim.delete(f"/scim2/Groups/{sales.zoom_id}")
    assert response.status_code == 204
    assert scim.get(f"/scim2/Groups/{sales.zoom_id}").status_code == 404
    assert "groups" not in scim.get(f"/scim2/Users/{sandbox_member.zoom_id}").json()


def test_default_group_cannot_be_deleted(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    default = SandboxGroup.objects.get(account=sandbox_account, is_default=True)
    response = scim.delete(f"/scim2/Groups/{default.zoom_id}")
    assert response.status_code == 400
    assert response.json()["detail"] == "Cannot delete account default group."
    assert SandboxGroup.objects.filter(pk=default.pk).exists()


def test_delete_unknown_group_is_404(scim: httpx2.Client) -> None:
    response = scim.delete("/scim2/Groups/nosuchgroup")
    assert response.status_code == 404
    assert response.json()["detail"] == "Group does not exist."
