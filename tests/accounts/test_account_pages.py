"""Account pages under /a/<id>/, the account model, and the one entry point to a Zoom client."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django_htmx.middleware import HtmxDetails

from tests.accounts.conftest import callback_path, consent
from zoomadmin.accounts.access import AccountRequest, account_view
from zoomadmin.accounts.clients import NoUsableConnection, connection_for_system_work, zoom_client
from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ConnectionStatus, ZoomAccount, ZoomConnection
from zoomadmin.sandbox.models import SandboxUser

pytestmark = pytest.mark.usefixtures("allowed_accounts", "sandbox_app")

HOSTILE_NEXT = ["//evil.example/x", "https://evil.example/", "http://testserver/a/", "javascript:x"]


def test_anonymous_callback_creates_no_session(visitor: Client) -> None:
    answer = visitor.get("/accounts/callback?code=abc&state=forged")
    assert answer.status_code == 400
    assert "does not belong to a sign-in started in this browser" in answer.content.decode()
    assert Session.objects.count() == 0
    assert "sessionid" not in answer.cookies


def test_next_is_honoured_after_sign_in(visitor: Client, zoom_browser: Client, admin_a: SandboxUser) -> None:
    assert visitor.get("/link")["Location"] == "/login?next=/link"
    page = visitor.get("/login?next=/link")
    assert 'name="next" value="/link"' in page.content.decode()
    started = visitor.post("/login", {"next": "/link"})
    landed = visitor.get(callback_path(consent(zoom_browser, started["Location"], admin_a)))
    assert landed["Location"] == "/link"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "http://testserver/a/", "javascript:x"]
)
def test_next_only_goes_to_local_paths(
    visitor: Client, zoom_browser: Client, admin_a: SandboxUser, target: str
) -> None:
    started = visitor.post("/login", {"next": target})
    landed = visitor.get(callback_path(consent(zoom_browser, started["Location"], admin_a)))
    assert landed["Location"] == f"/a/{admin_a.account.zoom_id}/"


def test_disconnect_asks_first_and_changes_nothing_until_confirmed(
    signed_in: Callable[..., Client], admin_a: SandboxUser
) -> None:
    client = signed_in(admin_a)
    connection = ZoomConnection.objects.get()
    page = client.get(f"/connections/{connection.pk}/disconnect")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Disconnect Acme Corp?" in body
    assert "It is your only linked account, so you will be signed out." in body
    assert ZoomConnection.objects.filter(pk=connection.pk).exists()
    client.post(f"/connections/{connection.pk}/disconnect")
    assert not ZoomConnection.objects.filter(pk=connection.pk).exists()
    # The account outlives the connection: its mirror, audit trail and jobs hang off it.
    assert ZoomAccount.objects.filter(zoom_id=admin_a.account.zoom_id).exists()


def test_visiting_an_account_makes_it_current(
    signed_in: Callable[..., Client],
    stored_connection: Callable[..., ZoomConnection],
    admin_a: SandboxUser,
    admin_b: SandboxUser,
) -> None:
    client = signed_in(admin_a)
    person = ZoomConnection.objects.get().user
    connection_b = stored_connection(admin_b, person=person)
    page = client.get(f"/a/{admin_b.account.zoom_id}/")
    assert page.status_code == 200
    assert client.session[CURRENT_SESSION_KEY] == connection_b.pk
    assert page.context["current_connection"].pk == connection_b.pk


def test_settings_refuse_an_unknown_plan(signed_in: Callable[..., Client], admin_a: SandboxUser) -> None:
    client = signed_in(admin_a)
    page = client.post(f"/a/{admin_a.account.zoom_id}/settings", {"name": "", "plan": "platinum"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Select a valid choice. platinum is not one of the available choices." in body
    assert "This field is required." in body
    assert ZoomAccount.objects.values_list("name", "plan").get() == ("Acme Corp", "business")


def test_signed_out_htmx_request_is_sent_to_sign_in_for_the_page(visitor: Client, admin_a: SandboxUser) -> None:
    answer = visitor.get(
        f"/a/{admin_a.account.zoom_id}/settings",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/a/x/users/?q=ana"},
    )
    assert answer["HX-Redirect"] == "/login?next=%2Fa%2Fx%2Fusers%2F%3Fq%3Dana"


@account_view
def _page_that_calls_zoom(request: AccountRequest) -> HttpResponse:
    with zoom_client(account=request.zoom_account, acting_as=request.zoom_connection) as client:
        return HttpResponse(client.me().email)


def _call(request: HttpRequest, zoom_id: str) -> HttpResponse:
    return _page_that_calls_zoom(request, zoom_account_id=zoom_id)


@pytest.mark.parametrize("htmx", [False, True])
def test_refused_connection_sends_the_admin_to_sign_in_again(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser, htmx: bool
) -> None:
    connection = stored_connection(admin_a)
    zoom_id = connection.account.zoom_id
    request = RequestFactory().get(f"/a/{zoom_id}/users/", headers={"HX-Request": "true"} if htmx else {})
    request.user = connection.user
    request.session = Client().session
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    assert _call(request, zoom_id).content.decode() == "admin@acme.example.com"

    ZoomConnection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.NEEDS_REAUTH)
    answer = _call(request, zoom_id)
    location = answer["HX-Redirect"] if htmx else answer["Location"]
    assert location == f"/a/{zoom_id}/sign-in-again?next=%2Fa%2F{zoom_id}%2Fusers%2F"


def test_reauth_page_explains_and_offers_sign_in(signed_in: Callable[..., Client], admin_a: SandboxUser) -> None:
    client = signed_in(admin_a)
    page = client.get(f"/a/{admin_a.account.zoom_id}/sign-in-again?next=/a/{admin_a.account.zoom_id}/")
    body = page.content.decode()
    assert "Zoom no longer accepts zoomadmin's access to <strong>Acme Corp</strong>" in body
    assert f'name="next" value="/a/{admin_a.account.zoom_id}/"' in body


def test_zoom_client_uses_the_account_plan(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser, admin_a2: SandboxUser
) -> None:
    first, second = stored_connection(admin_a), stored_connection(admin_a2)
    assert first.account_id == second.account_id
    ZoomAccount.objects.update(plan="free")
    for connection in (first, second):
        connection.refresh_from_db()
        with zoom_client(account=connection.account, acting_as=connection) as client:
            # Both admins' clients draw on one budget: the account's.
            assert (client.account_id, client.plan) == (admin_a.account.zoom_id, "free")


def test_zoom_client_refuses_a_connection_of_another_account(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    connection_a, connection_b = stored_connection(admin_a), stored_connection(admin_b)
    with pytest.raises(ValueError, match="does not belong to account"):
        zoom_client(account=connection_a.account, acting_as=connection_b)


def test_zoom_client_refuses_a_connection_that_needs_sign_in(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a)
    connection.status = ConnectionStatus.NEEDS_REAUTH
    connection.save()
    with pytest.raises(NoUsableConnection) as raised:
        zoom_client(account=connection.account, acting_as=connection)
    assert raised.value.message == (
        "Zoom no longer accepts the sign-in of admin@acme.example.com on Acme Corp. "
        "admin@acme.example.com must sign in with Zoom again."
    )


def test_system_work_acts_as_the_owner_then_the_freshest_admin(
    stored_connection: Callable[..., ZoomConnection],
    admin_a: SandboxUser,
    admin_a2: SandboxUser,
    sandbox_owner: SandboxUser,
) -> None:
    admin_connection = stored_connection(admin_a)
    second_connection = stored_connection(admin_a2)
    account = admin_connection.account
    assert connection_for_system_work(account).pk == second_connection.pk
    owner_connection = stored_connection(sandbox_owner)
    assert connection_for_system_work(account).pk == owner_connection.pk
    ZoomConnection.objects.exclude(pk=admin_connection.pk).update(status=ConnectionStatus.NEEDS_REAUTH)
    with zoom_client(account=account) as client:
        assert client.me().email == "admin@acme.example.com"
    ZoomConnection.objects.update(status=ConnectionStatus.NEEDS_REAUTH)
    with pytest.raises(NoUsableConnection, match="No admin of Acme Corp has a working Zoom sign-in"):
        zoom_client(account=account)


def test_account_admin_lists_accounts_and_hides_tokens(
    admin_client: Any, stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a)
    page = admin_client.get("/admin/accounts/zoomaccount/").content.decode()
    assert "Acme Corp" in page
    detail = admin_client.get(f"/admin/accounts/zoomconnection/{connection.pk}/change/").content.decode()
    assert connection.access_token() not in detail
    assert connection.refresh_token() not in detail


def test_zoom_account_command_lists_and_sets(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    stored_connection(admin_a)
    zoom_id = admin_a.account.zoom_id
    out = StringIO()
    call_command("zoom_account", "list", stdout=out)
    assert zoom_id in out.getvalue()
    assert "Acme Corp  (admins: admin@acme.example.com)" in out.getvalue()
    # "--": a Zoom id may start with "-" (URL-safe base64), which would read as an option.
    call_command("zoom_account", "set", "--name", "Acme Global", "--plan", "pro", "--", zoom_id, stdout=StringIO())
    assert ZoomAccount.objects.values_list("name", "plan").get() == ("Acme Global", "pro")
    with pytest.raises(CommandError, match="No Zoom account 'nope' is known here"):
        call_command("zoom_account", "set", "nope", "--plan", "pro")
    with pytest.raises(CommandError, match="Nothing to change"):
        call_command("zoom_account", "set", "--", zoom_id)
    with pytest.raises(CommandError, match="1 to 200 characters"):
        call_command("zoom_account", "set", "--name", "  ", "--", zoom_id)
    assert ZoomAccount.objects.values_list("name", "plan").get() == ("Acme Global", "pro")
