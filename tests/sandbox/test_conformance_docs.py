"""Zoom's SCIM2 API as a client written from Zoom's documentation alone would see it.

Every expectation here comes from `shared/reference/zoom-scim2.md` and
`zoom-oauth-ratelimits.md` (section numbers in the comments), never from the sandbox's code: the
tests speak raw HTTP (httpx2) to a real socket (pytest-django's live server, reached under the
sandbox's host name) and look only at statuses, headers and bodies. The conftest fixtures create
the account, its people and a token, as Zoom's portal and Marketplace would.

Where the reference marks a behaviour UNCONFIRMED, the test pins the reference's suggested
default (say so in the test) so a change of that default is a visible decision.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxUser, UserStatus

pytestmark = pytest.mark.django_db(transaction=True)

SANDBOX_HOST = "sandbox.test"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ZOOM_USER = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ZOOM_LICENSE = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ZOOM_GROUP = "urn:ietf:params:scim:schemas:extension:zoom:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
INVALID_ACTIVE = "The request json did not contains valid active field."


# --- the §7 example payloads, as a client would send them --------------------------------------------


def jill() -> dict[str, Any]:
    """§7 "User as returned by GET", minus what the server assigns (id, meta) and reads only (roles, groups)."""
    return {
        "schemas": [CORE_USER, ENTERPRISE, ZOOM_USER, ZOOM_LICENSE],
        "userName": "jill.chill@example.com",
        "name": {"givenName": "Jill", "familyName": "Chill"},
        "displayName": "Jill Chill",
        "emails": [{"type": "work", "value": "jill.chill@example.com", "primary": True}],
        "active": True,
        "userType": "Licensed",
        "title": "API Developer",
        "locale": "en-US",
        "phoneNumbers": [{"type": "work", "value": "+1 8005550100"}],
        ENTERPRISE: {
            "department": "Engineering",
            "organization": "Example Inc",
            "costCenter": "CC-42",
            "employeeNumber": "E1001",
            "manager": "boss@example.com",
        },
        ZOOM_USER: {"loginType": {"workEmail": False, "sso": True}},
        ZOOM_LICENSE: {
            "personalLinkName": "jill.chill",
            "pronouns": "she/her",
            "zoomWhiteboard": True,
            "zoomHuddles": False,
            "zoomTranslatedCaptions": False,
        },
    }


def engineering() -> dict[str, Any]:
    """§5 Create a group: `schemas`, `displayName`, the zoom:2.0:Group `emailAlias`."""
    return {
        "schemas": [CORE_GROUP, ZOOM_GROUP],
        "displayName": "Engineering",
        ZOOM_GROUP: {"emailAlias": "eng@example.com"},
    }


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def deactivate_op() -> dict[str, Any]:
    """§7 PatchOp — deactivate a user."""
    return patch_op({"op": "replace", "path": "active", "value": False})


def assert_scim_error(response: httpx2.Response, status: int, detail: str | None = None) -> None:
    """§6: `{"schemas":[Error], "detail": "...", "status": <number>}`."""
    assert response.status_code == status
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == status
    assert isinstance(body["status"], int)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if detail is not None:
        assert body["detail"] == detail


# --- clients over real HTTP ----------------------------------------------------------------------------


@pytest.fixture
def client_for(live_server: Any) -> Iterator[Callable[[str | None], httpx2.Client]]:
    """Make clients to the live server's sandbox host, optionally holding a bearer token."""
    clients: list[httpx2.Client] = []

    def make(token: str | None) -> httpx2.Client:
        headers = {"Host": SANDBOX_HOST, "Accept": "application/scim+json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx2.Client(base_url=live_server.url, headers=headers, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def zoom(
    client_for: Callable[[str | None], httpx2.Client],
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> httpx2.Client:
    """The account owner's client with a `scim2:admin` token (§2.8)."""
    return client_for(make_token(sandbox_account, sandbox_owner, "scim2:admin"))


def create_user(zoom: httpx2.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = zoom.post("/scim2/Users", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def create_group(zoom: httpx2.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = zoom.post("/scim2/Groups", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def person(email: str, given: str = "Pat", family: str = "Doe") -> dict[str, Any]:
    return {
        "schemas": [CORE_USER],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"type": "work", "value": email, "primary": True}],
    }


def user_group_ids(zoom: httpx2.Client, user_id: str) -> set[str]:
    """§5: membership is readable on the user (`groups`, an object or an array, §4.1)."""
    response = zoom.get(f"/scim2/Users/{user_id}")
    assert response.status_code == 200
    groups = response.json().get("groups")
    if groups is None:
        return set()
    items = groups if isinstance(groups, list) else [groups]
    return {item["value"] for item in items}


# --- List users (§3, §7 ListResponse) -----------------------------------------------------------------


def test_list_users_is_a_list_response_with_capital_r_resources(zoom: httpx2.Client) -> None:
    create_user(zoom, jill())
    response = zoom.get("/scim2/Users", params={"startIndex": 1, "count": 10})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == 2
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 2
    assert "resources" not in body
    assert sorted(user["userName"] for user in body["Resources"]) == [
        "jill.chill@example.com",
        "owner@acme.example.com",
    ]


def test_list_users_returns_the_reduced_projection(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    body = zoom.get("/scim2/Users", params={"filter": "userName eq jill.chill@example.com"}).json()
    (listed,) = body["Resources"]
    assert listed["id"] == created["id"]
    # No zoom:1.0:User block and no manager/organization/costCenter on List (forum 111286).
    assert listed["schemas"] == [CORE_USER, ENTERPRISE, ZOOM_USER]
    assert ZOOM_LICENSE not in listed
    for hidden in ("manager", "organization", "costCenter"):
        assert hidden not in listed[ENTERPRISE]
    assert listed[ENTERPRISE]["department"] == "Engineering"
    assert listed[ZOOM_USER] == {"loginType": {"workEmail": False, "sso": True}}
    assert listed["meta"]["resourceType"] == "User"
    assert listed["meta"]["location"].endswith(f"/scim2/Users/{created['id']}")


def test_list_users_pages_from_index_one(zoom: httpx2.Client) -> None:
    for n in range(24):
        create_user(zoom, person(f"p{n:02}@acme.example.com"))
    seen: list[str] = []
    sizes = []
    for start in (1, 11, 21):
        body = zoom.get("/scim2/Users", params={"startIndex": start, "count": 10}).json()
        assert body["totalResults"] == 25
        assert body["startIndex"] == start
        sizes.append(body["itemsPerPage"])
        seen += [user["id"] for user in body["Resources"]]
    assert sizes == [10, 10, 5]
    assert len(set(seen)) == 25
    past_the_end = zoom.get("/scim2/Users", params={"startIndex": 26, "count": 10}).json()
    assert past_the_end["totalResults"] == 25
    assert past_the_end["Resources"] == []


def test_list_users_count_is_capped_at_one_hundred(
    zoom: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    # UNCONFIRMED cap; the reference suggests 100 (integrators page with count=100).
    for _ in range(110):
        make_sandbox_user(sandbox_account)
    body = zoom.get("/scim2/Users", params={"startIndex": 1, "count": 500}).json()
    assert body["totalResults"] == 111
    assert body["itemsPerPage"] == 100
    assert len(body["Resources"]) == 100


def test_list_users_without_count_gives_ten_per_page(zoom: httpx2.Client) -> None:
    # UNCONFIRMED default; the reference suggests 10 (doc example: itemsPerPage 10 of 20).
    for n in range(12):
        create_user(zoom, person(f"q{n:02}@acme.example.com"))
    body = zoom.get("/scim2/Users").json()
    assert body["totalResults"] == 13
    assert body["itemsPerPage"] == 10
    assert len(body["Resources"]) == 10


# --- filters (§3) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "userName eq jill.chill@example.com",
        'userName eq "jill.chill@example.com"',
    ],
)
def test_user_name_filter_quoted_or_not(zoom: httpx2.Client, expression: str) -> None:
    created = create_user(zoom, jill())
    body = zoom.get("/scim2/Users", params={"filter": expression}).json()
    assert body["totalResults"] == 1
    assert [user["id"] for user in body["Resources"]] == [created["id"]]


def test_user_name_filter_for_an_unknown_email_is_an_empty_list(zoom: httpx2.Client) -> None:
    response = zoom.get("/scim2/Users", params={"filter": 'userName eq "nobody@example.com"'})
    assert response.status_code == 200
    assert response.json()["totalResults"] == 0
    assert response.json()["Resources"] == []


def test_external_id_filter_matches_the_zoom_user_id(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    body = zoom.get("/scim2/Users", params={"filter": f"externalId eq {created['id']}"}).json()
    assert [user["userName"] for user in body["Resources"]] == ["jill.chill@example.com"]


@pytest.mark.parametrize(
    ("path", "expression"),
    [
        ("/scim2/Users", 'title eq "API Developer"'),
        ("/scim2/Users", 'userName co "jill"'),
        ("/scim2/Users", 'userName eq "a@example.com" or userName eq "b@example.com"'),
        ("/scim2/Groups", 'emailAlias eq "eng@example.com"'),
    ],
)
def test_unsupported_filter_is_400_naming_the_filter(zoom: httpx2.Client, path: str, expression: str) -> None:
    response = zoom.get(path, params={"filter": expression})
    assert_scim_error(response, 400, f"The current filter does not support the filter name: {expression}")


def test_user_name_filter_on_a_pending_user_is_400(zoom: httpx2.Client, sandbox_pending: SandboxUser) -> None:
    # forum 7646: invited users "are not actual users".
    response = zoom.get("/scim2/Users", params={"filter": "userName eq invited@acme.example.com"})
    assert_scim_error(response, 400, "User invited@acme.example.com not exist or not belong to this account.")


# --- Create / Get a user (§4) ---------------------------------------------------------------------------


def test_create_user_answers_201_with_the_user(zoom: httpx2.Client) -> None:
    response = zoom.post("/scim2/Users", json=jill())
    assert response.status_code == 201
    body = response.json()
    assert body["id"]
    assert body["userName"] == "jill.chill@example.com"
    assert body["active"] is True
    assert body["meta"]["resourceType"] == "User"


def test_get_user_is_the_full_profile_of_the_reference_example(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    group = create_group(zoom, engineering())
    add = patch_op({"op": "add", "path": "members", "value": [{"value": created["id"]}]})
    assert zoom.patch(f"/scim2/Groups/{group['id']}", json=add).status_code == 204

    response = zoom.get(f"/scim2/Users/{quote(created['id'], safe='')}")
    assert response.status_code == 200
    user = response.json()
    assert user["schemas"] == [CORE_USER, ENTERPRISE, ZOOM_USER, ZOOM_LICENSE]
    sent = jill()
    for key in ("userName", "name", "displayName", "emails", "active", "userType", "title", "locale", "phoneNumbers"):
        assert user[key] == sent[key], key
    # The manager is an email string, not RFC 7643's complex type.
    assert user[ENTERPRISE] == sent[ENTERPRISE]
    assert user[ENTERPRISE]["manager"] == "boss@example.com"
    assert user[ZOOM_USER] == sent[ZOOM_USER]
    for key, value in sent[ZOOM_LICENSE].items():
        assert user[ZOOM_LICENSE][key] == value
    # Zoom's Get example shows roles and groups as single objects.
    assert user["roles"] == {"display": "Member", "value": "Member", "primary": True}
    assert user["groups"]["value"] == group["id"]
    assert user["groups"]["display"] == "Engineering"
    meta = user["meta"]
    assert meta["resourceType"] == "User"
    assert meta["location"].endswith(f"/scim2/Users/{created['id']}")
    assert {"version", "created", "lastModified"} <= meta.keys()


def test_get_unknown_user_is_a_404_scim_error(zoom: httpx2.Client) -> None:
    # The docs' placeholder id holds `&`: encoded, it is just an unknown id.
    assert_scim_error(zoom.get(f"/scim2/Users/{quote('k&KdKr6TLWuxdDtk0hjSzL', safe='')}"), 404)


def test_create_with_an_existing_email_is_409(zoom: httpx2.Client) -> None:
    # UNCONFIRMED status; Zoom's general error table says 409 for an email that already exists.
    create_user(zoom, jill())
    assert_scim_error(zoom.post("/scim2/Users", json=jill()), 409)


# --- Update a user: PUT is a partial merge (§4.2) --------------------------------------------------------


def test_put_merges_only_the_attributes_sent(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    body = {"schemas": [CORE_USER, ENTERPRISE], "title": "Lead Developer", ENTERPRISE: {"department": "Platform"}}
    response = zoom.put(f"/scim2/Users/{created['id']}", json=body)
    assert response.status_code == 200
    after = zoom.get(f"/scim2/Users/{created['id']}").json()
    assert after["title"] == "Lead Developer"
    assert after[ENTERPRISE]["department"] == "Platform"
    # Everything not sent is kept.
    assert after["name"] == {"givenName": "Jill", "familyName": "Chill"}
    assert after["locale"] == "en-US"
    assert after["phoneNumbers"] == [{"type": "work", "value": "+1 8005550100"}]
    assert after[ENTERPRISE]["manager"] == "boss@example.com"
    assert after[ENTERPRISE]["costCenter"] == "CC-42"
    assert after[ZOOM_LICENSE]["pronouns"] == "she/her"
    assert response.json()["title"] == "Lead Developer"


def test_put_needs_schemas(zoom: httpx2.Client) -> None:
    # "include only the parameters you want to update and the required `schemas`".
    created = create_user(zoom, jill())
    assert_scim_error(zoom.put(f"/scim2/Users/{created['id']}", json={"title": "Boss"}), 400)
    assert zoom.get(f"/scim2/Users/{created['id']}").json()["title"] == "API Developer"


def test_put_active_false_deactivates(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    response = zoom.put(f"/scim2/Users/{created['id']}", json={"schemas": [CORE_USER], "active": False})
    assert response.status_code == 200
    assert zoom.get(f"/scim2/Users/{created['id']}").json()["active"] is False


# --- Deactivate a user: PATCH (§4.2, §7) -------------------------------------------------------------------


def test_patch_deactivate_answers_200_with_the_user(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    response = zoom.patch(f"/scim2/Users/{created['id']}", json=deactivate_op())
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert response.json()["active"] is False
    listed = zoom.get("/scim2/Users", params={"filter": "userName eq jill.chill@example.com"}).json()
    assert listed["Resources"][0]["active"] is False


def test_patch_with_lowercase_operations_is_zooms_400(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    body = {"schemas": [PATCH_OP], "operations": [{"op": "replace", "path": "active", "value": False}]}
    assert_scim_error(zoom.patch(f"/scim2/Users/{created['id']}", json=body), 400, INVALID_ACTIVE)
    assert zoom.get(f"/scim2/Users/{created['id']}").json()["active"] is True


def test_patch_without_an_active_op_is_zooms_400(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    body = patch_op({"op": "replace", "path": "title", "value": "Boss"})
    assert_scim_error(zoom.patch(f"/scim2/Users/{created['id']}", json=body), 400, INVALID_ACTIVE)


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "value": {"active": False}},  # Okta: path-less
        {"op": "Replace", "path": "active", "value": "False"},  # capitalised op, string boolean
    ],
    ids=["okta-pathless", "capitalised-string"],
)
def test_patch_deactivate_in_other_common_shapes(zoom: httpx2.Client, operation: dict[str, Any]) -> None:
    # UNCONFIRMED which shapes Zoom takes; the reference says to accept these.
    created = create_user(zoom, jill())
    response = zoom.patch(f"/scim2/Users/{created['id']}", json=patch_op(operation))
    assert response.status_code == 200
    assert response.json()["active"] is False


def test_patch_reactivates(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    zoom.patch(f"/scim2/Users/{created['id']}", json=deactivate_op())
    body = patch_op({"op": "replace", "path": "active", "value": True})
    response = zoom.patch(f"/scim2/Users/{created['id']}", json=body)
    assert response.status_code == 200
    assert response.json()["active"] is True


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_admins_and_owners_are_not_deactivated(
    zoom: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser], role: str
) -> None:
    # Okta KB: Zoom deactivates only Members via SCIM. Status UNCONFIRMED; the reference suggests 400.
    privileged = make_sandbox_user(sandbox_account, user_name=f"{role.lower()}2@acme.example.com", role=role)
    response = zoom.patch(f"/scim2/Users/{privileged.zoom_id}", json=deactivate_op())
    assert_scim_error(response, 400)
    assert zoom.get(f"/scim2/Users/{privileged.zoom_id}").json()["active"] is True


# --- Delete a user (§2) ---------------------------------------------------------------------------------------


def test_delete_user_answers_204_then_404(zoom: httpx2.Client) -> None:
    created = create_user(zoom, jill())
    response = zoom.delete(f"/scim2/Users/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_scim_error(zoom.get(f"/scim2/Users/{created['id']}"), 404)
    listed = zoom.get("/scim2/Users", params={"filter": "userName eq jill.chill@example.com"}).json()
    assert listed["totalResults"] == 0


# --- Groups (§5, §7) -----------------------------------------------------------------------------------------------


def test_create_get_and_list_a_group(zoom: httpx2.Client) -> None:
    response = zoom.post("/scim2/Groups", json=engineering())
    assert response.status_code == 201
    created = response.json()
    assert created["displayName"] == "Engineering"
    assert created[ZOOM_GROUP]["emailAlias"] == "eng@example.com"

    got = zoom.get(f"/scim2/Groups/{created['id']}")
    assert got.status_code == 200
    assert got.json()["id"] == created["id"]
    assert got.json()["displayName"] == "Engineering"
    assert got.json()["meta"]["resourceType"] == "Group"

    listed = zoom.get("/scim2/Groups", params={"startIndex": 1, "count": 10}).json()
    assert listed["schemas"] == [LIST_RESPONSE]
    assert listed["totalResults"] == 2  # the account's default group and Engineering
    names = {group["displayName"]: group for group in listed["Resources"]}
    assert names["Engineering"]["schemas"] == [CORE_GROUP, ZOOM_GROUP]
    assert names["Engineering"][ZOOM_GROUP] == {"emailAlias": "eng@example.com"}


@pytest.mark.parametrize("expression", ["displayName eq Engineering", 'displayName eq "Engineering"'])
def test_group_display_name_filter(zoom: httpx2.Client, expression: str) -> None:
    created = create_group(zoom, engineering())
    listed = zoom.get("/scim2/Groups", params={"filter": expression}).json()
    assert [group["id"] for group in listed["Resources"]] == [created["id"]]


def test_get_unknown_group_is_404(zoom: httpx2.Client) -> None:
    assert_scim_error(zoom.get("/scim2/Groups/kuWhUCrrT4q9Xy17rSR8js"), 404, "Group does not exist.")


def test_group_members_add_remove_by_filter_and_replace(zoom: httpx2.Client) -> None:
    group = create_group(zoom, engineering())
    a, b, c = (create_user(zoom, person(f"{n}@acme.example.com"))["id"] for n in ("a", "b", "c"))
    url = f"/scim2/Groups/{group['id']}"

    # §7: add in one op and remove with a `members[value eq "…"]` path in the next.
    added = zoom.patch(url, json=patch_op({"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}))
    assert added.status_code == 204
    assert added.content == b""
    assert group["id"] in user_group_ids(zoom, a)
    assert group["id"] in user_group_ids(zoom, b)

    both = patch_op(
        {"op": "add", "path": "members", "value": [{"value": c}]},
        {"op": "remove", "path": f'members[value eq "{a}"]'},
    )
    assert zoom.patch(url, json=both).status_code == 204
    assert group["id"] not in user_group_ids(zoom, a)
    assert group["id"] in user_group_ids(zoom, b)
    assert group["id"] in user_group_ids(zoom, c)

    # ConductorOne's removal for Zoom: replace with the remaining list.
    assert (
        zoom.patch(url, json=patch_op({"op": "replace", "path": "members", "value": [{"value": c}]})).status_code == 204
    )
    assert group["id"] not in user_group_ids(zoom, b)
    assert group["id"] in user_group_ids(zoom, c)

    # The other documented alternative: remove with a value list.
    remove = patch_op({"op": "remove", "path": "members", "value": [{"value": c}]})
    assert zoom.patch(url, json=remove).status_code == 204
    assert group["id"] not in user_group_ids(zoom, c)


def test_group_patch_needs_schemas(zoom: httpx2.Client) -> None:
    group = create_group(zoom, engineering())
    body = {"Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]}
    assert_scim_error(zoom.patch(f"/scim2/Groups/{group['id']}", json=body), 400)
    assert zoom.get(f"/scim2/Groups/{group['id']}").json()["displayName"] == "Engineering"


def test_duplicate_group_name_is_409(zoom: httpx2.Client) -> None:
    # UNCONFIRMED for SCIM; the REST groups API answers 409 "Group name {name} is already in use.".
    create_group(zoom, engineering())
    assert_scim_error(zoom.post("/scim2/Groups", json=engineering()), 409, "Group name Engineering is already in use.")


def test_group_rename_answers_204(zoom: httpx2.Client) -> None:
    group = create_group(zoom, engineering())
    body = patch_op({"op": "replace", "path": "displayName", "value": "Platform Engineering"})
    response = zoom.patch(f"/scim2/Groups/{group['id']}", json=body)
    assert response.status_code == 204
    assert response.content == b""
    assert zoom.get(f"/scim2/Groups/{group['id']}").json()["displayName"] == "Platform Engineering"


def test_group_patch_body_is_capped_at_100000_characters(zoom: httpx2.Client) -> None:
    group = create_group(zoom, engineering())
    url = f"/scim2/Groups/{group['id']}"
    rename = json.dumps(patch_op({"op": "replace", "path": "displayName", "value": "Renamed"}))
    headers = {"Content-Type": "application/json"}

    too_long = rename + " " * (100_001 - len(rename))
    assert_scim_error(zoom.patch(url, content=too_long, headers=headers), 400)
    assert zoom.get(url).json()["displayName"] == "Engineering"

    at_the_limit = rename + " " * (100_000 - len(rename))
    assert zoom.patch(url, content=at_the_limit, headers=headers).status_code == 204
    assert zoom.get(url).json()["displayName"] == "Renamed"


def test_group_delete_answers_204_and_the_default_group_is_refused(zoom: httpx2.Client) -> None:
    (default,) = zoom.get("/scim2/Groups").json()["Resources"]  # a fresh account has only its default group
    assert_scim_error(zoom.delete(f"/scim2/Groups/{default['id']}"), 400, "Cannot delete account default group.")
    assert zoom.get(f"/scim2/Groups/{default['id']}").status_code == 200

    group = create_group(zoom, engineering())
    response = zoom.delete(f"/scim2/Groups/{group['id']}")
    assert response.status_code == 204
    assert_scim_error(zoom.get(f"/scim2/Groups/{group['id']}"), 404, "Group does not exist.")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("", "The request JSON must not be empty."),
        ("{not json", "The request body must be in JSON format."),
        (
            json.dumps({"schemas": [CORE_GROUP, ZOOM_GROUP], "displayName": ""}),
            'The "DisplayName" of the request is invalid.',
        ),
    ],
    ids=["empty", "not-json", "no-name"],
)
def test_group_create_refusals_use_zooms_messages(zoom: httpx2.Client, body: str, detail: str) -> None:
    response = zoom.post("/scim2/Groups", content=body, headers={"Content-Type": "application/json"})
    assert_scim_error(response, 400, detail)


# --- what Zoom does not have (§1, §8) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/scim2/Me", "/scim2/Bulk", "/scim2/ServiceProviderConfig", "/scim2/Schemas", "/scim2/ResourceTypes"]
)
def test_endpoints_zoom_lacks_are_404(zoom: httpx2.Client, path: str) -> None:
    assert zoom.get(path).status_code == 404


# --- gateway answers: auth and rate limits (oauth-ratelimits §2.7, §3.4) --------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-real-token", "Basic dXNlcjpwYXNz"])
def test_bad_or_missing_token_is_401_code_124(
    client_for: Callable[[str | None], httpx2.Client], sandbox_account: SandboxAccount, authorization: str | None
) -> None:
    client = client_for(None)
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/scim2/Users", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}


def test_token_without_the_scim_scope_is_code_4711(
    client_for: Callable[[str | None], httpx2.Client],
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    client = client_for(make_token(sandbox_account, sandbox_owner, "user:read:user"))
    response = client.get("/scim2/Users")
    # HTTP status UNCONFIRMED in the reference; the body is what Zoom documents.
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 4711
    assert body["message"].startswith("Invalid access token, does not contain scopes:[")
    assert "scim2" in body["message"]


def test_classic_scim2_scope_is_accepted(
    client_for: Callable[[str | None], httpx2.Client],
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    client = client_for(make_token(sandbox_account, sandbox_owner, "scim2"))
    assert client.get("/scim2/Users").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "category", "limit"),
    [
        ("GET", "/scim2/Users", "Medium", "60"),
        ("GET", "/scim2/Groups", "Medium", "60"),
        ("GET", "/scim2/Users/{user}", "Light", "80"),
        ("GET", "/scim2/Users/unknown-id", "Light", "80"),
    ],
)
def test_rate_limit_headers_on_responses(
    zoom: httpx2.Client, sandbox_member: SandboxUser, method: str, path: str, category: str, limit: str
) -> None:
    # A Business account (the default plan): Light 80/s, Medium 60/s.
    response = zoom.request(method, path.format(user=sandbox_member.zoom_id))
    assert response.headers["X-RateLimit-Category"] == category
    assert response.headers["X-RateLimit-Type"] == "QPS"
    assert response.headers["X-RateLimit-Limit"] == limit
    assert 0 <= int(response.headers["X-RateLimit-Remaining"]) <= int(limit)


def test_over_the_per_second_limit_is_429_with_zooms_body(
    client_for: Callable[[str | None], httpx2.Client],
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
) -> None:
    # A Free account allows 2 Medium calls a second; ten back-to-back list calls cannot all pass.
    account = make_sandbox_account(plan="free", rate_limits_enabled=True)
    owner = make_sandbox_user(account, role=Role.OWNER)
    client = client_for(make_token(account, owner, "scim2:admin"))
    responses = [client.get("/scim2/Users") for _ in range(10)]
    limited = [response for response in responses if response.status_code == 429]
    assert limited
    assert limited[0].json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
    }
    assert limited[0].headers["X-RateLimit-Category"] == "Medium"
    assert limited[0].headers["X-RateLimit-Type"] == "QPS"
    assert limited[0].headers["X-RateLimit-Limit"] == "2"
    assert limited[0].headers["X-RateLimit-Remaining"] == "0"


def test_sso_not_enabled_is_400_on_every_scim_call(
    client_for: Callable[[str | None], httpx2.Client],
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
) -> None:
    account = make_sandbox_account(sso_enabled=False)
    owner = make_sandbox_user(account, role=Role.OWNER)
    client = client_for(make_token(account, owner, "scim2:admin"))
    for response in (
        client.get("/scim2/Users"),
        client.get("/scim2/Groups"),
        client.post("/scim2/Groups", json=engineering()),
    ):
        assert_scim_error(response, 400, "Account has not enabled Single Sign-On.")


def test_a_token_reaches_only_its_own_account(
    zoom: httpx2.Client,
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    # Forum 7646 (staff): out-of-account users are 404.
    stranger = make_sandbox_user(make_sandbox_account(), status=UserStatus.ACTIVE)
    assert_scim_error(zoom.get(f"/scim2/Users/{stranger.zoom_id}"), 404)
    listed = zoom.get("/scim2/Users", params={"filter": f"userName eq {stranger.user_name}"}).json()
    assert listed["totalResults"] == 0
