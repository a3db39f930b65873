"""ZoomClient's user operations against the sandbox (in-process transport, real Redis limiter)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from tests.zoom.support import SANDBOX, FixedTokens
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus
from zoomadmin.sandbox.transport import sandbox_transport
from zoomadmin.zoom import filters
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Conflict, Invalid, NotFound
from zoomadmin.zoom.models import (
    ZoomEnterpriseUser,
    ZoomLoginExtension,
    ZoomProfileExtension,
    ZoomUser,
    user_build,
)
from zoomadmin.zoom.ratelimit import default_limiter


def test_me_names_the_authorizing_user_and_account(client: ZoomClient, sandbox_owner: SandboxUser) -> None:
    me = client.me()
    assert (me.id, me.email, me.account_id, me.role_name) == (
        sandbox_owner.zoom_id,
        "owner@acme.example.com",
        sandbox_owner.account.zoom_id,
        "Owner",
    )


def test_default_transport_comes_from_settings(
    settings: Any, sandbox_account: SandboxAccount, sandbox_owner: SandboxUser, make_token: Callable[..., str]
) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "zoomadmin.sandbox.transport.sandbox_transport"
    with ZoomClient(
        api_base_url=SANDBOX,
        account_id=f"test-{uuid.uuid4().hex}",
        plan="business",
        tokens=FixedTokens(make_token(sandbox_account, sandbox_owner)),
        limiter=default_limiter(),
        wait_for_slot=False,
    ) as client:
        assert client.me().email == "owner@acme.example.com"


def test_create_then_get_user_round_trips_zoom_extensions(client: ZoomClient) -> None:
    created = client.create_user(
        user_build(
            email="new.person@acme.example.com",
            first_name="New",
            last_name="Person",
            title="Engineer",
            department="Sales",
            manager="owner@acme.example.com",
            login_sso=True,
            login_work_email=False,
        )
    )
    assert created.id
    fetched = client.get_user(created.id)
    assert fetched.user_name == "new.person@acme.example.com"
    assert fetched.active is True
    assert fetched.name is not None
    assert (fetched.name.given_name, fetched.name.family_name) == ("New", "Person")
    assert fetched.title == "Engineer"
    enterprise = fetched[ZoomEnterpriseUser]
    assert enterprise is not None
    assert (enterprise.department, enterprise.manager) == ("Sales", "owner@acme.example.com")
    login = fetched[ZoomLoginExtension]
    assert login is not None
    assert login.login_type is not None
    assert login.login_type.sso is True
    stored = SandboxUser.objects.get(zoom_id=created.id)
    assert (stored.department, stored.manager, stored.title) == ("Sales", "owner@acme.example.com", "Engineer")


def test_get_user_reads_license_extension_and_single_object_roles(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    user = make_sandbox_user(
        sandbox_account,
        role=Role.ADMIN,
        zoom_extension={"pronouns": "she/her", "zoomWhiteboard": True, "someCustomAttribute": "x"},
    )
    fetched = client.get_user(user.zoom_id)
    profile = fetched[ZoomProfileExtension]
    assert profile is not None
    assert (profile.pronouns, profile.zoom_whiteboard) == ("she/her", True)
    assert [role.value for role in fetched.roles or []] == ["Admin"]


def test_get_user_with_ampersand_in_id(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    user = make_sandbox_user(sandbox_account, zoom_id="k&KdKr6TLWuxdDtk0hjSzL")
    assert client.get_user("k&KdKr6TLWuxdDtk0hjSzL").user_name == user.user_name


def test_update_user_changes_only_the_given_fields(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    user = make_sandbox_user(sandbox_account, title="Before", department="Ops")
    changes = ZoomUser(title="After")
    updated = client.update_user(user.zoom_id, changes)
    assert updated.title == "After"
    user.refresh_from_db()
    assert (user.title, user.department) == ("After", "Ops")


def test_set_user_active_deactivates_and_reactivates(client: ZoomClient, sandbox_member: SandboxUser) -> None:
    assert client.set_user_active(sandbox_member.zoom_id, False).active is False
    sandbox_member.refresh_from_db()
    assert sandbox_member.status == UserStatus.INACTIVE
    assert client.set_user_active(sandbox_member.zoom_id, True).active is True
    sandbox_member.refresh_from_db()
    assert sandbox_member.status == UserStatus.ACTIVE


def test_deactivating_the_owner_is_invalid_with_zooms_reason(client: ZoomClient, sandbox_owner: SandboxUser) -> None:
    with pytest.raises(Invalid) as caught:
        client.set_user_active(sandbox_owner.zoom_id, False)
    assert caught.value.status == 400
    assert caught.value.detail
    assert caught.value.detail in caught.value.message
    sandbox_owner.refresh_from_db()
    assert sandbox_owner.status == UserStatus.ACTIVE


def test_delete_user_then_get_is_not_found(client: ZoomClient, sandbox_member: SandboxUser) -> None:
    client.delete_user(sandbox_member.zoom_id)
    assert not SandboxUser.objects.filter(pk=sandbox_member.pk).exists()
    with pytest.raises(NotFound) as caught:
        client.get_user(sandbox_member.zoom_id)
    assert caught.value.status == 404
    assert "Zoom has no such user or group" in caught.value.message


def test_creating_an_existing_email_is_conflict(client: ZoomClient, sandbox_member: SandboxUser) -> None:
    with pytest.raises(Conflict) as caught:
        client.create_user(user_build(email="MEMBER@acme.example.com", first_name="A", last_name="B"))
    assert caught.value.status == 409
    assert SandboxUser.objects.filter(user_name__iexact="member@acme.example.com").count() == 1


def test_find_user_by_email(client: ZoomClient, sandbox_member: SandboxUser) -> None:
    found = client.find_user_by_email("member@acme.example.com")
    assert found is not None
    assert found.id == sandbox_member.zoom_id
    assert client.find_user_by_email("nobody@acme.example.com") is None


def test_find_user_by_email_escapes_quotes(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    make_sandbox_user(sandbox_account, user_name='"odd"@acme.example.com')
    found = client.find_user_by_email('"odd"@acme.example.com')
    assert found is not None
    assert found.user_name == '"odd"@acme.example.com'


def test_find_pending_user_is_invalid(client: ZoomClient, sandbox_pending: SandboxUser) -> None:
    with pytest.raises(Invalid) as caught:
        client.find_user_by_email(sandbox_pending.user_name)
    assert "not exist or not belong" in caught.value.detail


def test_unsupported_filter_is_invalid(client: ZoomClient) -> None:
    with pytest.raises(Invalid) as caught:
        client.list_users(filter='title eq "x"')
    assert "does not support the filter" in caught.value.detail


def test_iter_users_walks_every_page(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    made = {make_sandbox_user(sandbox_account).zoom_id for _ in range(23)}
    seen = [user.id for user in client.iter_users(page_size=5)]
    assert len(seen) == len(set(seen))
    assert made <= set(seen)
    assert len(seen) == SandboxUser.objects.filter(account=sandbox_account).count()


def test_iter_users_with_page_size_above_zooms_cap(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    sandbox_account.page_max_count = 4
    sandbox_account.save()
    for _ in range(9):
        make_sandbox_user(sandbox_account)
    seen = [user.id for user in client.iter_users(page_size=100)]
    assert len(set(seen)) == len(seen) == SandboxUser.objects.filter(account=sandbox_account).count()


def test_iter_users_with_filter(client: ZoomClient, sandbox_member: SandboxUser) -> None:
    users = list(client.iter_users(filter=filters.eq("userName", "member@acme.example.com")))
    assert [user.id for user in users] == [sandbox_member.zoom_id]


def test_list_users_page_shape(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    for _ in range(3):
        make_sandbox_user(sandbox_account)
    page = client.list_users(start_index=2, count=2)
    total = SandboxUser.objects.filter(account=sandbox_account).count()
    assert (page.total_results, page.start_index, len(page.resources or [])) == (total, 2, 2)


def test_user_membership_is_visible_on_the_user(
    client: ZoomClient, sandbox_account: SandboxAccount, sandbox_member: SandboxUser
) -> None:
    group = SandboxGroup.objects.create(account=sandbox_account, display_name="Engineering")
    group.members.add(sandbox_member)
    fetched = client.get_user(sandbox_member.zoom_id)
    assert group.zoom_id in [membership.value for membership in fetched.groups or []]


def test_requests_carry_scim_headers(
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    seen: list[httpx2.Request] = []
    inner = sandbox_transport()

    class Recording(httpx2.BaseTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            seen.append(request)
            return inner.handle_request(request)

    client = make_client(FixedTokens(make_token(sandbox_account, sandbox_owner)), transport=Recording())
    client.get_user(sandbox_owner.zoom_id)
    headers = seen[0].headers
    assert headers["Accept"] == "application/scim+json"
    assert headers["User-Agent"].startswith("zoomadmin/")
    assert headers["Authorization"].startswith("Bearer ")
