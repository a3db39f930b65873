"""ZoomClient's group operations against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser
from zoomadmin.zoom import filters
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import Conflict, Invalid, NotFound


def test_create_group_with_email_alias(client: ZoomClient, sandbox_account: SandboxAccount) -> None:
    group = client.create_group("Engineering", email_alias="eng@acme.example.com")
    assert (group.display_name, group.email_alias) == ("Engineering", "eng@acme.example.com")
    stored = SandboxGroup.objects.get(zoom_id=group.id)
    assert (stored.account_id, stored.email_alias) == (sandbox_account.pk, "eng@acme.example.com")
    assert client.get_group(group.id or "").display_name == "Engineering"


def test_duplicate_group_name_is_conflict(client: ZoomClient) -> None:
    client.create_group("Sales")
    with pytest.raises(Conflict) as caught:
        client.create_group("Sales")
    assert "Sales" in caught.value.detail


def test_rename_group(client: ZoomClient) -> None:
    group = client.create_group("Old name")
    client.rename_group(group.id or "", "New name")
    assert client.get_group(group.id or "").display_name == "New name"


def test_add_and_remove_members(client: ZoomClient, sandbox_member: SandboxUser, sandbox_admin: SandboxUser) -> None:
    group = client.create_group("Team")
    client.add_group_members(group.id or "", [sandbox_member.zoom_id, sandbox_admin.zoom_id])
    stored = SandboxGroup.objects.get(zoom_id=group.id)
    assert set(stored.members.values_list("zoom_id", flat=True)) == {sandbox_member.zoom_id, sandbox_admin.zoom_id}
    client.remove_group_members(group.id or "", [sandbox_member.zoom_id])
    assert list(stored.members.values_list("zoom_id", flat=True)) == [sandbox_admin.zoom_id]
    members = client.get_group(group.id or "").members or []
    assert [member.value for member in members] == [sandbox_admin.zoom_id]


def test_remove_member_whose_id_has_quote_and_ampersand(
    client: ZoomClient, sandbox_account: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]
) -> None:
    odd = make_sandbox_user(sandbox_account, zoom_id='a&b"c')
    group = client.create_group("Odd")
    client.add_group_members(group.id or "", [odd.zoom_id])
    assert SandboxGroup.objects.get(zoom_id=group.id).members.count() == 1
    client.remove_group_members(group.id or "", [odd.zoom_id])
    assert SandboxGroup.objects.get(zoom_id=group.id).members.count() == 0


def test_adding_unknown_user_is_invalid(client: ZoomClient) -> None:
    group = client.create_group("Team")
    with pytest.raises(Invalid):
        client.add_group_members(group.id or "", ["no-such-user"])
    assert SandboxGroup.objects.get(zoom_id=group.id).members.count() == 0


def test_iter_groups_walks_pages_and_filters(client: ZoomClient, sandbox_account: SandboxAccount) -> None:
    for n in range(7):
        SandboxGroup.objects.create(account=sandbox_account, display_name=f"Group {n}")
    names = [group.display_name for group in client.iter_groups(page_size=3)]
    assert sorted(names) == sorted(
        SandboxGroup.objects.filter(account=sandbox_account).values_list("display_name", flat=True)
    )
    found = list(client.iter_groups(filter=filters.eq("displayName", "Group 4")))
    assert [group.display_name for group in found] == ["Group 4"]
    assert client.list_groups(count=2).total_results == 8


def test_delete_group(client: ZoomClient) -> None:
    group = client.create_group("Temporary")
    client.delete_group(group.id or "")
    with pytest.raises(NotFound):
        client.get_group(group.id or "")
    assert not SandboxGroup.objects.filter(zoom_id=group.id).exists()


def test_default_group_cannot_be_deleted(client: ZoomClient, sandbox_account: SandboxAccount) -> None:
    default = SandboxGroup.objects.get(account=sandbox_account, is_default=True)
    with pytest.raises(Invalid) as caught:
        client.delete_group(default.zoom_id)
    assert "default group" in caught.value.message
    assert SandboxGroup.objects.filter(pk=default.pk).exists()


def test_group_operations_on_unknown_id_are_not_found(client: ZoomClient) -> None:
    for call in (
        lambda: client.get_group("missing"),
        lambda: client.rename_group("missing", "x"),
        lambda: client.delete_group("missing"),
    ):
        with pytest.raises(NotFound):
            call()
