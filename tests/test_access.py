"""An admin never sees another account's data: every URL pattern of the dashboard, walked as the wrong admin.

The walk reads the URL configuration itself, so pages added later are covered without editing this
file: a pattern under `/a/<zoom_account_id>/` must be guarded by `account_view` and answer 404 to an
admin of another account for every method (and a sign-in redirect to a signed-out visitor); a pattern
outside it must be listed in `UNSCOPED` below, after a person has checked it shows nothing of any
account but the signed-in admin's own. URL parameters are filled with real ids of account A's
objects (`PARAM_VALUES`); a pattern with a parameter name not listed there fails the walk until one
is added, so nobody can add a page that escapes it by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from zoomadmin.accounts.access import is_account_scoped
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.directory.models import DirectoryGroup, DirectoryMembership, DirectoryUser
from zoomadmin.imports.models import ChangeSet
from zoomadmin.sandbox.models import SandboxUser

pytestmark = pytest.mark.usefixtures("zoom_settings", "allowed_accounts")

# Routes outside /a/<id>/, each checked by hand: what it shows depends only on the signed-in person.
UNSCOPED = {
    "": "landing page, or a redirect to the person's own current account",
    "login": "sign-in page",
    "accounts/callback": "OAuth callback: needs a sign-in started in this browser",
    "accounts/": "the person's own connections",
    "link": "link another account (the person's own session)",
    "switch": "switch to one of the person's own connections (POST)",
    "logout": "sign out (POST)",
    "connections/<int:pk>/disconnect": "the person's own connection only (404 otherwise)",
    "healthz": "database and Redis probe, no data",
    "favicon.ico": "redirect to the static icon, no data",
}
ADMIN_PREFIX = "admin/"
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class AccountA:
    """Account A as the walk sees it: the ids its URL parameters are filled with, and strings that must not leak."""

    zoom_id: str
    values: dict[str, str]
    secrets: list[str]


# Parameter name → how to get a real id of account A's objects from the `AccountA` fixture's `values`.
# Apps that add account pages with new parameters add their objects to `account_a_data` below.
PARAM_VALUES: dict[str, Callable[[AccountA], str]] = {
    "zoom_account_id": lambda a: a.zoom_id,
    "pk": lambda a: a.values["connection_pk"],
    "change_set_id": lambda a: a.values["change_set_pk"],
    "zoom_user_id": lambda a: a.values["zoom_user_id"],
    "zoom_group_id": lambda a: a.values["zoom_group_id"],
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def dashboard_routes() -> list[tuple[str, Any]]:
    """Every route of the dashboard's URL configuration but the Django admin's own pages."""
    return [(route, view) for route, view in _walk(get_resolver().url_patterns) if not route.startswith(ADMIN_PREFIX)]


def _fill(route: str, account: AccountA) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in PARAM_VALUES:
            pytest.fail(f"URL parameter <{name}> of {route!r} has no value in tests/test_access.py PARAM_VALUES")
        return PARAM_VALUES[name](account)

    path = "/" + PARAM.sub(value, route)
    return path.removesuffix("$").replace("^", "")


@pytest.fixture
def account_a_data(stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser) -> AccountA:
    """Account A with an admin's connection (and, as apps grow, its other objects)."""
    connection = stored_connection(admin_a)
    change_set = ChangeSet.objects.create(account=connection.account, created_by=connection, file_name="a.csv")
    # Account A's mirror: its admin as a user, and a group they are in (real Zoom ids of account A).
    user = DirectoryUser.objects.create(
        account=connection.account, zoom_id=admin_a.zoom_id, user_name=admin_a.user_name, email=admin_a.user_name
    )
    group = DirectoryGroup.objects.create(
        account=connection.account, zoom_id="grp-a-secret-id", display_name="Acme Secret Group", member_count=1
    )
    DirectoryMembership.objects.create(account=connection.account, group=group, user=user)
    return AccountA(
        zoom_id=connection.account.zoom_id,
        values={
            "connection_pk": str(connection.pk),
            "change_set_pk": str(change_set.pk),
            "zoom_user_id": user.zoom_id,
            "zoom_group_id": group.zoom_id,
        },
        secrets=[connection.account.name, connection.account.zoom_id, admin_a.user_name, group.display_name],
    )


@pytest.fixture
def admin_b_client(signed_in: Callable[..., Client], admin_b: SandboxUser) -> Client:
    """A signed-in admin of account B whose session survives the walk (POST /logout would end it)."""
    client = signed_in(admin_b)
    original_post = client.post

    def post(path: str, *args: Any, **kwargs: Any) -> Any:
        answer = original_post(path, *args, **kwargs)
        if path == "/logout":
            connection = ZoomConnection.objects.get(zoom_email=admin_b.user_name)
            client.force_login(connection.user)
        return answer

    client.post = post  # type: ignore[method-assign]
    return client


def test_the_walk_sees_the_account_pages() -> None:
    routes = [route for route, _ in dashboard_routes()]
    # The walk must not silently find nothing: the account pages that exist today are in it.
    assert "a/<str:zoom_account_id>/" in routes
    assert "a/<str:zoom_account_id>/settings" in routes


def test_every_route_is_account_scoped_or_reviewed() -> None:
    for route, view in dashboard_routes():
        if "<str:zoom_account_id>" in route:
            assert route.startswith("a/<str:zoom_account_id>/"), route
            assert is_account_scoped(view), f"{route} must be wrapped in accounts.access.account_view"
        else:
            assert route in UNSCOPED, f"{route} is outside /a/<id>/: review it and add it to UNSCOPED"


def test_admin_of_another_account_gets_404_everywhere(account_a_data: AccountA, admin_b_client: Client) -> None:
    for route, _ in dashboard_routes():
        path = _fill(route, account_a_data)
        answers = {
            "GET": admin_b_client.get(path),
            "htmx GET": admin_b_client.get(path, headers={"HX-Request": "true"}),
            "POST": admin_b_client.post(path, {"name": "Stolen", "plan": "free", "connection": "1"}),
        }
        for method, answer in answers.items():
            body = answer.content.decode(errors="replace")
            assert answer.status_code < 500, (method, path, answer.status_code)
            if "<str:zoom_account_id>" in route or route == "connections/<int:pk>/disconnect":
                assert answer.status_code == 404, (method, path, answer.status_code)
            for secret in account_a_data.secrets:
                assert secret not in body, (method, path, secret)
    # Nothing of A changed through any of those requests.
    connection = ZoomConnection.objects.select_related("account").get(pk=account_a_data.values["connection_pk"])
    assert (connection.account.name, connection.account.plan) == ("Acme Corp", "business")


def test_signed_out_visitor_is_sent_to_sign_in(account_a_data: AccountA, visitor: Client) -> None:
    for route, _ in dashboard_routes():
        if "<str:zoom_account_id>" not in route:
            continue
        path = _fill(route, account_a_data)
        answer = visitor.get(path)
        assert answer.status_code == 302, path
        assert answer["Location"].startswith("/login?next="), path
        htmx = visitor.get(path, headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{path}"})
        assert htmx.status_code == 200, path
        assert htmx["HX-Redirect"].startswith("/login?next="), path
        assert account_a_data.zoom_id not in htmx.content.decode()
