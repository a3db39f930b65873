"""The sandbox's SCIM2 user operations: create, get, PUT, PATCH (de)activation, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from tests.conftest import SANDBOX_BASE_URL
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus
from zoomadmin.sandbox.transport import sandbox_transport

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ZOOM_USER = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ZOOM_LICENSE = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def new_user(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [CORE, ENTERPRISE, ZOOM_USER],
        "userName": "jill.chill@acme.example.com",
        "name": {"givenName": "Jill", "familyName": "Chill"},
        "emails": [{"type": "work", "value": "jill.chill@acme.example.com", "primary": True}],
    }
    body.update(overrides)
    return body


def deactivate(value: Any = False) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": value}]}


@pytest.fixture
def other_scim(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
) -> Iterator[httpx2.Client]:
    """A client holding the owner's token of a second account."""
    account = make_sandbox_account(name="Globex", vanity_domain="globex.example.com")
    owner = make_sandbox_user(account, user_name="owner@globex.example.com", role=Role.OWNER)
    headers = {"Authorization": f"Bearer {make_token(account, owner)}"}
    with httpx2.Client(transport=sandbox_transport(), base_url=SANDBOX_BASE_URL, headers=headers) as client:
        yield client


# --- create ----------------------------------------------------------------------------------------


def test_create_user_answers_201_with_the_full_profile(scim: httpx2.Client) -> None:
    body = new_user(
        title="API Developer",
        locale="en-US",
        userType="Licensed",
        phoneNumbers=[{"type": "work", "value": "+1 8005550100"}],
        **{
            ENTERPRISE: {"department": "Engineering", "costCenter": "CC-42", "manager": "boss@acme.example.com"},
            ZOOM_USER: {"loginType": {"workEmail": True, "sso": False}},
            ZOOM_LICENSE: {"pronouns": "she/her", "zoomWhiteboard": True},
        },
    )
    response = scim.post("/scim2/Users", json=body)

    assert response.status_code == 201
    user = response.json()
    assert user["schemas"] == [CORE, ENTERPRISE, ZOOM_USER, ZOOM_LICENSE]
    assert response.headers["Location"] == f"http://sandbox.test/scim2/Users/{user['id']}"
    assert user["meta"]["location"] == response.headers["Location"]
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["version"] == 'W/"1"'
    assert user["meta"]["created"].endswith("Z")
    assert user["userName"] == "jill.chill@acme.example.com"
    assert user["displayName"] == "Jill Chill"
    assert user["active"] is True
    assert user["userType"] == "Licensed"
    assert user["title"] == "API Developer"
    assert user["phoneNumbers"] == [{"type": "work", "value": "+1 8005550100"}]
    assert user["roles"] == {"value": "Member", "display": "Member", "primary": True}
    assert user[ENTERPRISE]["department"] == "Engineering"
    assert user[ENTERPRISE]["costCenter"] == "CC-42"
    assert user[ENTERPRISE]["manager"] == "boss@acme.example.com"
    assert user[ZOOM_USER] == {"loginType": {"workEmail": True, "sso": False}}
    assert user[ZOOM_LICENSE] == {"pronouns": "she/her", "zoomWhiteboard": True}
    # What Create answered is what Get answers.
    assert scim.get(f"/scim2/Users/{user['id']}").json() == user


def test_create_user_with_only_display_name(scim: httpx2.Client) -> None:
    response = scim.post("/scim2/Users", json=new_user(name={}, displayName="Jill C."))
    assert response.status_code == 201
    assert response.json()["displayName"] == "Jill C."


@pytest.mark.parametrize(
    ("overrides", "detail_part"),
    [
        ({"userName": "not-an-email"}, "userName"),
        ({"name": {"givenName": "Jill"}}, "givenName"),
        ({"schemas": None}, "schemas"),
        ({"userType": "None"}, "AttributeValidationFailed"),
        ({"userType": "Collaboration"}, "AttributeValidationFailed"),
        ({ZOOM_USER: {"loginType": {"workEmail": False, "sso": False}}}, "loginType"),
        ({"phoneNumbers": "555"}, "phoneNumbers"),
    ],
)
def test_create_user_rejects_invalid_bodies(scim: httpx2.Client, overrides: dict[str, Any], detail_part: str) -> None:
    body = {key: value for key, value in new_user(**overrides).items() if value is not None}
    response = scim.post("/scim2/Users", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["status"] == 400
    assert detail_part in error["detail"]
    assert not SandboxUser.objects.filter(user_name="jill.chill@acme.example.com").exists()


@pytest.mark.parametrize("user_type", ["Basic", "Licensed", "On-Prem", "Pro", "Corp", "licensed"])
def test_create_user_accepts_zoom_user_types(scim: httpx2.Client, user_type: str) -> None:
    response = scim.post("/scim2/Users", json=new_user(userType=user_type))
    assert response.status_code == 201
    assert response.json()["userType"].lower() == user_type.lower()


def test_create_user_refuses_bad_json(scim: httpx2.Client) -> None:
    response = scim.post("/scim2/Users", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body must be in JSON format."


def test_create_user_with_an_email_taken_in_any_account_is_409(scim: httpx2.Client, other_scim: httpx2.Client) -> None:
    assert other_scim.post("/scim2/Users", json=new_user()).status_code == 201

    response = scim.post("/scim2/Users", json=new_user(userName="JILL.Chill@acme.example.com"))

    assert response.status_code == 409
    assert response.json()["status"] == 409
    assert "already exists" in response.json()["detail"]


# --- get -------------------------------------------------------------------------------------------


def test_get_user_shows_role_and_groups_as_objects_by_default(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_admin: SandboxUser
) -> None:
    engineering = SandboxGroup.objects.create(account=sandbox_account, display_name="Engineering")
    sales = SandboxGroup.objects.create(account=sandbox_account, display_name="Sales")
    engineering.members.add(sandbox_admin)
    sales.members.add(sandbox_admin)

    user = scim.get(f"/scim2/Users/{sandbox_admin.zoom_id}").json()

    assert user["roles"] == {"value": "Admin", "display": "Admin", "primary": True}
    assert user["groups"] == {"value": engineering.zoom_id, "display": "Engineering"}


def test_get_user_without_groups_omits_them_in_object_shape(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    user = scim.get(f"/scim2/Users/{sandbox_member.zoom_id}").json()
    assert "groups" not in user
    assert user["roles"]["value"] == "Member"


def test_get_user_array_shape(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_member: SandboxUser
) -> None:
    sandbox_account.roles_groups_shape = "array"
    sandbox_account.save()
    sales = SandboxGroup.objects.create(account=sandbox_account, display_name="Sales")
    sales.members.add(sandbox_member)

    user = scim.get(f"/scim2/Users/{sandbox_member.zoom_id}").json()

    assert user["roles"] == [{"value": "Member", "display": "Member", "primary": True}]
    assert user["groups"] == [{"value": sales.zoom_id, "display": "Sales"}]


def test_get_pending_user_is_inactive(scim: httpx2.Client, sandbox_pending: SandboxUser) -> None:
    response = scim.get(f"/scim2/Users/{sandbox_pending.zoom_id}")
    assert response.status_code == 200
    assert response.json()["active"] is False


def test_get_unknown_user_is_404(scim: httpx2.Client) -> None:
    response = scim.get("/scim2/Users/nosuchuser")
    assert response.status_code == 404
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": "User does not exist: nosuchuser",
        "status": 404,
    }


def test_url_encoded_ids_reach_the_user(
    scim: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    user = make_sandbox_user(sandbox_account, zoom_id="k&KdKr6TLWuxdDtk0hjSzL")

    response = scim.get("/scim2/Users/k%26KdKr6TLWuxdDtk0hjSzL")

    assert response.status_code == 200
    assert response.json()["id"] == "k&KdKr6TLWuxdDtk0hjSzL"
    assert response.json()["meta"]["location"] == "http://sandbox.test/scim2/Users/k%26KdKr6TLWuxdDtk0hjSzL"
    assert scim.patch("/scim2/Users/k%26KdKr6TLWuxdDtk0hjSzL", json=deactivate()).status_code == 200
    user.refresh_from_db()
    assert user.status == UserStatus.INACTIVE


# --- cross-account isolation -----------------------------------------------------------------------


def test_another_accounts_user_cannot_be_seen_or_changed(
    other_scim: httpx2.Client, sandbox_member: SandboxUser
) -> None:
    path = f"/scim2/Users/{sandbox_member.zoom_id}"
    assert other_scim.get(path).status_code == 404
    assert other_scim.put(path, json={"schemas": [CORE], "title": "Hacked"}).status_code == 404
    assert other_scim.patch(path, json=deactivate()).status_code == 404
    assert other_scim.delete(path).status_code == 404
    listed = other_scim.get("/scim2/Users", params={"filter": f'userName eq "{sandbox_member.user_name}"'})
    assert listed.json()["totalResults"] == 0

    sandbox_member.refresh_from_db()
    assert sandbox_member.title == ""
    assert sandbox_member.status == UserStatus.ACTIVE


# --- PUT -------------------------------------------------------------------------------------------


def test_put_merges_only_the_given_attributes(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    path = f"/scim2/Users/{sandbox_member.zoom_id}"
    before = scim.get(path).json()

    response = scim.put(
        path,
        json={
            "schemas": [CORE],
            "title": "Lead",
            ENTERPRISE: {"department": "Sales"},
            ZOOM_LICENSE: {"zoomHuddles": True},
        },
    )

    assert response.status_code == 200
    user = response.json()
    assert user["title"] == "Lead"
    assert user[ENTERPRISE]["department"] == "Sales"
    assert user[ZOOM_LICENSE] == {"zoomHuddles": True}
    assert user["name"] == before["name"]
    assert user["displayName"] == before["displayName"]
    assert user["userName"] == before["userName"]
    assert user["meta"]["version"] == 'W/"2"'
    assert scim.get(path).json()["title"] == "Lead"


def test_put_can_rename_and_change_login_type(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    response = scim.put(
        f"/scim2/Users/{sandbox_member.zoom_id}",
        json={
            "schemas": [CORE],
            "userName": "renamed@acme.example.com",
            "displayName": "Renamed",
            ZOOM_USER: {"loginType": {"workEmail": True}},
        },
    )
    assert response.status_code == 200
    assert response.json()["userName"] == "renamed@acme.example.com"
    assert response.json()["displayName"] == "Renamed"
    assert response.json()[ZOOM_USER]["loginType"] == {"workEmail": True, "sso": True}


def test_put_ignores_identity_fields_when_the_account_says_so(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_member: SandboxUser
) -> None:
    sandbox_account.put_ignores_identity_fields = True
    sandbox_account.save()

    response = scim.put(
        f"/scim2/Users/{sandbox_member.zoom_id}",
        json={
            "schemas": [CORE],
            "userName": "renamed@acme.example.com",
            "displayName": "Renamed",
            "title": "Lead",
            ZOOM_USER: {"loginType": {"workEmail": True, "sso": False}},
        },
    )

    assert response.status_code == 200
    user = response.json()
    assert user["userName"] == "member@acme.example.com"
    assert user["displayName"] == sandbox_member.display_name
    assert user[ZOOM_USER]["loginType"] == {"workEmail": False, "sso": True}
    assert user["title"] == "Lead"


def test_put_to_a_taken_user_name_is_409(
    scim: httpx2.Client, sandbox_member: SandboxUser, sandbox_admin: SandboxUser
) -> None:
    response = scim.put(
        f"/scim2/Users/{sandbox_member.zoom_id}", json={"schemas": [CORE], "userName": "ADMIN@acme.example.com"}
    )
    assert response.status_code == 409
    sandbox_member.refresh_from_db()
    assert sandbox_member.user_name == "member@acme.example.com"


def test_put_active_false_deactivates_and_true_reactivates(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    path = f"/scim2/Users/{sandbox_member.zoom_id}"
    assert scim.put(path, json={"schemas": [CORE], "active": False}).json()["active"] is False
    assert scim.get(path).json()["active"] is False
    assert scim.put(path, json={"schemas": [CORE], "active": "true"}).json()["active"] is True


def test_put_cannot_deactivate_an_admin(scim: httpx2.Client, sandbox_admin: SandboxUser) -> None:
    response = scim.put(f"/scim2/Users/{sandbox_admin.zoom_id}", json={"schemas": [CORE], "active": False})
    assert response.status_code == 400
    sandbox_admin.refresh_from_db()
    assert sandbox_admin.status == UserStatus.ACTIVE


def test_put_without_schemas_is_400(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    response = scim.put(f"/scim2/Users/{sandbox_member.zoom_id}", json={"title": "Lead"})
    assert response.status_code == 400
    assert "schemas" in response.json()["detail"]


# --- PATCH -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "value": {"active": False}},
        {"op": "replace", "path": "active", "value": "False"},
        {"op": "Replace", "path": "active", "value": False},
        {"op": "replace", "value": {"active": "false"}},
    ],
)
def test_patch_deactivates_in_every_common_shape(
    scim: httpx2.Client, sandbox_member: SandboxUser, operation: dict[str, Any]
) -> None:
    response = scim.patch(
        f"/scim2/Users/{sandbox_member.zoom_id}", json={"schemas": [PATCH_OP], "Operations": [operation]}
    )
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["schemas"][-1] == ZOOM_LICENSE
    assert scim.get(f"/scim2/Users/{sandbox_member.zoom_id}").json()["active"] is False


def test_patch_reactivates(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    path = f"/scim2/Users/{sandbox_member.zoom_id}"
    scim.patch(path, json=deactivate())
    response = scim.patch(path, json=deactivate("true"))
    assert response.status_code == 200
    assert response.json()["active"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": [PATCH_OP], "operations": [{"op": "replace", "path": "active", "value": False}]},
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}]},
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]},
        {"schemas": [PATCH_OP], "Operations": []},
    ],
)
def test_patch_without_a_valid_active_op_is_400(
    scim: httpx2.Client, sandbox_member: SandboxUser, body: dict[str, Any]
) -> None:
    response = scim.patch(f"/scim2/Users/{sandbox_member.zoom_id}", json=body)
    assert response.status_code == 400
    assert response.json()["detail"] == "The request json did not contains valid active field."
    sandbox_member.refresh_from_db()
    assert sandbox_member.status == UserStatus.ACTIVE


@pytest.mark.parametrize("persona", ["sandbox_owner", "sandbox_admin"])
def test_patch_refuses_to_deactivate_owner_or_admin(
    scim: httpx2.Client, request: pytest.FixtureRequest, persona: str
) -> None:
    user: SandboxUser = request.getfixturevalue(persona)
    response = scim.patch(f"/scim2/Users/{user.zoom_id}", json=deactivate())
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert user.role in response.json()["detail"]
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE


def test_privileged_refusal_status_is_a_knob(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_admin: SandboxUser
) -> None:
    sandbox_account.deactivate_privileged_status = 403
    sandbox_account.save()
    response = scim.patch(f"/scim2/Users/{sandbox_admin.zoom_id}", json=deactivate())
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_patch_cannot_activate_a_pending_user(scim: httpx2.Client, sandbox_pending: SandboxUser) -> None:
    response = scim.patch(f"/scim2/Users/{sandbox_pending.zoom_id}", json=deactivate(True))
    assert response.status_code == 400
    assert "pending" in response.json()["detail"]
    sandbox_pending.refresh_from_db()
    assert sandbox_pending.status == UserStatus.PENDING


# --- DELETE ----------------------------------------------------------------------------------------


def test_delete_user_removes_it(scim: httpx2.Client, sandbox_member: SandboxUser) -> None:
    response = scim.delete(f"/scim2/Users/{sandbox_member.zoom_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert scim.get(f"/scim2/Users/{sandbox_member.zoom_id}").status_code == 404
    assert not SandboxUser.objects.filter(pk=sandbox_member.pk).exists()


def test_delete_owner_is_refused(scim: httpx2.Client, sandbox_owner: SandboxUser) -> None:
    response = scim.delete(f"/scim2/Users/{sandbox_owner.zoom_id}")
    assert response.status_code == 400
    assert "owner" in response.json()["detail"]
    assert scim.get(f"/scim2/Users/{sandbox_owner.zoom_id}").status_code == 200


def test_delete_in_disassociate_mode_keeps_the_zoom_user_outside_the_account(
    scim: httpx2.Client, sandbox_account: SandboxAccount, sandbox_member: SandboxUser
) -> None:
    sandbox_account.delete_user_mode = "disassociate"
    sandbox_account.save()
    group = SandboxGroup.objects.create(account=sandbox_account, display_name="Sales")
    group.members.add(sandbox_member)

    assert scim.delete(f"/scim2/Users/{sandbox_member.zoom_id}").status_code == 204

    assert scim.get(f"/scim2/Users/{sandbox_member.zoom_id}").status_code == 404
    listed = scim.get("/scim2/Users", params={"filter": "userName eq member@acme.example.com"}).json()
    assert listed["totalResults"] == 0
    sandbox_member.refresh_from_db()
    assert sandbox_member.account_id != sandbox_account.pk
    assert list(group.members.all()) == []
    # The email still belongs to a Zoom user, so it cannot be created again.
    assert scim.post("/scim2/Users", json=new_user(userName="member@acme.example.com")).status_code == 409


def test_delete_unknown_user_is_404(scim: httpx2.Client) -> None:
    assert scim.delete("/scim2/Users/nosuchuser").status_code == 404


# --- frame: methods, tokens, labels, SSO -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/scim2/Users"), ("PUT", "/scim2/Users"), ("POST", "/scim2/Users/abc"), ("PUT", "/scim2/Groups/abc")],
)
def test_wrong_method_is_a_scim_405(scim: httpx2.Client, method: str, path: str) -> None:
    response = scim.request(method, path)
    assert response.status_code == 405
    assert response.json()["status"] == 405
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_missing_token_is_401_code_124(sandbox_http: httpx2.Client) -> None:
    response = sandbox_http.get("/scim2/Users")
    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}


def test_token_without_scim_scope_is_refused(
    sandbox_http: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
) -> None:
    token = make_token(sandbox_account, sandbox_owner, scopes="user:read:user")
    response = sandbox_http.get("/scim2/Users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == 4711


def test_sso_disabled_account_gets_400(scim: httpx2.Client, sandbox_account: SandboxAccount) -> None:
    sandbox_account.sso_enabled = False
    sandbox_account.save()
    response = scim.get("/scim2/Users")
    assert response.status_code == 400
    assert response.json()["detail"] == "Account has not enabled Single Sign-On."


@pytest.mark.parametrize(
    ("method", "path", "label"),
    [
        ("GET", "/scim2/Users", "Medium"),
        ("GET", "/scim2/Groups", "Medium"),
        ("GET", "/scim2/Users/{user}", "Light"),
        ("DELETE", "/scim2/Users/{user}", "Light"),
        ("GET", "/scim2/Groups/{group}", "Light"),
        ("POST", "/scim2/Groups", "Light"),
    ],
)
def test_rate_limit_labels(
    scim: httpx2.Client,
    sandbox_account: SandboxAccount,
    sandbox_member: SandboxUser,
    method: str,
    path: str,
    label: str,
) -> None:
    group = SandboxGroup.objects.get(account=sandbox_account, is_default=True)
    response = scim.request(method, path.format(user=sandbox_member.zoom_id, group=group.zoom_id))
    assert response.headers["X-RateLimit-Category"] == label


# --- employeeNumber is unique within an account (reference §4.1) ----------------------------------


def test_create_with_an_employee_number_held_in_the_account_is_409(
    scim: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    make_sandbox_user(sandbox_account, employee_number="E1001")
    response = scim.post("/scim2/Users", json=new_user(**{ENTERPRISE: {"employeeNumber": "E1001"}}))
    assert response.status_code == 409
    assert response.json()["detail"] == "employeeNumber E1001 is already in use."
    assert response.json()["status"] == 409
    assert not SandboxUser.objects.filter(user_name="jill.chill@acme.example.com").exists()


def test_the_same_employee_number_in_another_account_is_fine(
    scim: httpx2.Client,
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    make_sandbox_user(make_sandbox_account(), employee_number="E1001")
    response = scim.post("/scim2/Users", json=new_user(**{ENTERPRISE: {"employeeNumber": "E1001"}}))
    assert response.status_code == 201
    assert response.json()[ENTERPRISE]["employeeNumber"] == "E1001"


def test_put_taking_another_users_employee_number_is_409_and_changes_nothing(
    scim: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    make_sandbox_user(sandbox_account, employee_number="E1001")
    target = make_sandbox_user(sandbox_account, employee_number="E2002", title="Old")
    body = {"schemas": [CORE], "title": "New", ENTERPRISE: {"employeeNumber": "E1001"}}
    response = scim.put(f"/scim2/Users/{target.zoom_id}", json=body)
    assert response.status_code == 409
    assert response.json()["detail"] == "employeeNumber E1001 is already in use."
    target.refresh_from_db()
    assert (target.employee_number, target.title) == ("E2002", "Old")


def test_put_keeping_its_own_employee_number_succeeds(
    scim: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    target = make_sandbox_user(sandbox_account, employee_number="E1001")
    body = {"schemas": [CORE], "title": "Lead", ENTERPRISE: {"employeeNumber": "E1001"}}
    response = scim.put(f"/scim2/Users/{target.zoom_id}", json=body)
    assert response.status_code == 200
    assert response.json()[ENTERPRISE]["employeeNumber"] == "E1001"
    assert response.json()["title"] == "Lead"


def test_blank_employee_numbers_may_repeat(
    scim: httpx2.Client, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    make_sandbox_user(sandbox_account, employee_number="")
    response = scim.post("/scim2/Users", json=new_user(**{ENTERPRISE: {"employeeNumber": ""}}))
    assert response.status_code == 201


def test_a_body_too_big_for_the_server_is_a_scim_error(scim: httpx2.Client) -> None:
    # Beyond Django's upload limit (2.5 MB) the body cannot even be read: still a SCIM answer.
    response = scim.post("/scim2/Users", content=b'{"userName": "' + b"x" * 3_000_000 + b'"}')
    assert response.status_code == 400
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": "The request body is too large.",
        "status": 400,
    }
