"""The core operations against a standards-conformant SCIM 2.0 server (RFC 7644) at another URL.

The server below is a small in-memory fake written from the RFC, standing for a third-party
service provider (not our code): string `status` in errors, arrays for multi-valued attributes,
no `Resources` on an empty page, 204 on user PATCH, 200-with-body on group PATCH, a complex
`manager`, and a page size it chooses itself (it ignores `count`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx2
import pytest

from zoomadmin.zoom import filters
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Conflict, NotFound, Unauthorized
from zoomadmin.zoom.models import ZoomEnterpriseUser, user_build
from zoomadmin.zoom.ratelimit import default_limiter

BASE = "https://idp.example.org/scim/v2"
PAGE = 2  # the server's own page size, whatever `count` asks for
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class RfcScimServer:
    """Users and Groups per RFC 7644, in memory."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.headers.get("Authorization") != "Bearer rfc-token":
            return self.error(401, "Authorization failure.")
        path = request.url.path.removeprefix("/scim/v2")
        body = json.loads(request.content) if request.content else None
        match = re.fullmatch(
            r"/(Users|Groups)(?:/([^/]+))?", request.url.raw_path.decode().split("?")[0].removeprefix("/scim/v2")
        )
        if not match:
            return self.error(404, f"No endpoint {path}")
        kind, raw_id = match.groups()
        store = self.users if kind == "Users" else self.groups
        resource_id = httpx2.URL(f"/{raw_id}").path[1:] if raw_id else None
        if resource_id is None:
            if request.method == "GET":
                return self.list(store, request.url.params)
            if request.method == "POST":
                return self.create(kind, store, body)
        elif resource_id not in store:
            return self.error(404, f"Resource {resource_id} not found")
        elif request.method == "GET":
            return httpx2.Response(200, json=store[resource_id])
        elif request.method == "PUT":
            store[resource_id] = {**body, "id": resource_id}
            return httpx2.Response(200, json=store[resource_id])
        elif request.method == "PATCH":
            self.patch(store[resource_id], body)
            return httpx2.Response(204) if kind == "Users" else httpx2.Response(200, json=store[resource_id])
        elif request.method == "DELETE":
            del store[resource_id]
            return httpx2.Response(204)
        return self.error(405, "Method not allowed")

    @staticmethod
    def error(status: int, detail: str, scim_type: str | None = None) -> httpx2.Response:
        body = {"schemas": [ERROR], "status": str(status), "detail": detail}
        if scim_type:
            body["scimType"] = scim_type
        return httpx2.Response(status, json=body, headers={"Content-Type": "application/scim+json"})

    def list(self, store: dict[str, dict[str, Any]], params: httpx2.QueryParams) -> httpx2.Response:
        items = list(store.values())
        if "filter" in params:
            attribute, value = re.fullmatch(r'(\w+) eq "((?:[^"\\]|\\.)*)"', params["filter"]).groups()  # type: ignore[union-attr]
            value = json.loads(f'"{value}"')
            items = [item for item in items if str(item.get(attribute, "")).lower() == value.lower()]
        start = int(params.get("startIndex", "1"))
        page = items[start - 1 : start - 1 + PAGE]
        body: dict[str, Any] = {
            "schemas": [LIST],
            "totalResults": len(items),
            "startIndex": start,
            "itemsPerPage": len(page),
        }
        if page:
            body["Resources"] = page
        return httpx2.Response(200, json=body)

    def create(self, kind: str, store: dict[str, dict[str, Any]], body: dict[str, Any]) -> httpx2.Response:
        key = "userName" if kind == "Users" else "displayName"
        if any(item[key].lower() == body[key].lower() for item in store.values()):
            return self.error(409, f"{key} is already taken", "uniqueness")
        resource_id = str(uuid.uuid4())
        resource = {
            **body,
            "id": resource_id,
            "meta": {"resourceType": kind[:-1], "location": f"{BASE}/{kind}/{resource_id}"},
        }
        if kind == "Users":
            enterprise = resource.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", {})
            if isinstance(enterprise.get("manager"), str):
                # An RFC server stores the manager as a reference to another user.
                enterprise["manager"] = {"value": enterprise["manager"], "displayName": "Manager"}
            resource.setdefault("active", True)
        store[resource_id] = resource
        return httpx2.Response(201, json=resource)

    @staticmethod
    def patch(resource: dict[str, Any], body: dict[str, Any]) -> None:
        for operation in body["Operations"]:
            op, path, value = operation["op"].lower(), operation.get("path", ""), operation.get("value")
            member = re.fullmatch(r'members\[value eq "(.*)"\]', path)
            if op == "replace":
                resource[path] = value
            elif op == "add" and path == "members":
                resource.setdefault("members", []).extend(value)
            elif op == "remove" and member:
                resource["members"] = [
                    m for m in resource.get("members", []) if m["value"] != json.loads(f'"{member.group(1)}"')
                ]


class Tokens:
    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refreshed_access_token(self, rejected: str) -> str:
        raise Unauthorized("The other server's token cannot be refreshed.")


@pytest.fixture
def server() -> RfcScimServer:
    return RfcScimServer()


@pytest.fixture
def client(server: RfcScimServer) -> ZoomClient:
    return ZoomClient(
        api_base_url="https://idp.example.org",
        scim_base_url=BASE,
        account_id=f"rfc-{uuid.uuid4().hex}",
        plan="business",
        tokens=Tokens("rfc-token"),
        limiter=default_limiter(),
        wait_for_slot=True,
        transport=httpx2.MockTransport(server),
    )


def test_user_lifecycle(client: ZoomClient, server: RfcScimServer) -> None:
    created = client.create_user(
        user_build(email="bjensen@example.com", first_name="Barbara", last_name="Jensen", manager="boss-id")
    )
    assert created.id in server.users
    assert client.find_user_by_email("BJensen@example.com") is not None
    fetched = client.get_user(created.id or "")
    enterprise = fetched[ZoomEnterpriseUser]
    assert enterprise is not None
    assert enterprise.manager == "boss-id"
    # RFC servers may answer PATCH with 204: the client reads the user back.
    assert client.set_user_active(created.id or "", False).active is False
    assert server.users[created.id or ""]["active"] is False
    client.delete_user(created.id or "")
    assert server.users == {}
    with pytest.raises(NotFound) as caught:
        client.get_user(created.id or "")
    assert caught.value.status == 404
    assert "not found" in caught.value.detail


def test_conflict_with_string_status(client: ZoomClient) -> None:
    client.create_user(user_build(email="a@example.com"))
    with pytest.raises(Conflict) as caught:
        client.create_user(user_build(email="A@example.com"))
    assert (caught.value.status, caught.value.detail) == (409, "userName is already taken")


def test_paging_when_server_ignores_count_and_empty_page_has_no_resources(client: ZoomClient) -> None:
    assert list(client.iter_users()) == []
    for n in range(5):
        client.create_user(user_build(email=f"u{n}@example.com"))
    assert sorted(user.email for user in client.iter_users(page_size=100)) == [f"u{n}@example.com" for n in range(5)]


def test_groups_with_200_on_patch(client: ZoomClient, server: RfcScimServer) -> None:
    user = client.create_user(user_build(email="m@example.com"))
    group = client.create_group("Readers")
    client.add_group_members(group.id or "", [user.id or ""])
    client.rename_group(group.id or "", "Writers")
    fetched = client.get_group(group.id or "")
    assert fetched.display_name == "Writers"
    assert [member.value for member in fetched.members or []] == [user.id]
    client.remove_group_members(group.id or "", [user.id or ""])
    assert server.groups[group.id or ""]["members"] == []
    assert [g.display_name for g in client.iter_groups(filter=filters.eq("displayName", "writers"))] == ["Writers"]
    client.delete_group(group.id or "")
    assert server.groups == {}


def test_refused_token_without_refresh_is_unauthorized(server: RfcScimServer) -> None:
    client = ZoomClient(
        api_base_url="https://idp.example.org",
        scim_base_url=BASE,
        account_id=f"rfc-{uuid.uuid4().hex}",
        plan="business",
        tokens=Tokens("wrong"),
        limiter=default_limiter(),
        wait_for_slot=True,
        transport=httpx2.MockTransport(server),
    )
    with pytest.raises(Unauthorized):
        client.list_users()
