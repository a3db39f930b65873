"""The user detail page and its changes, each checked in Zoom (the sandbox), the mirror and the audit log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditEvent, AuditResult
from zoomadmin.directory.models import DirectoryUser, SyncRun
from zoomadmin.sandbox.models import SandboxAccount, SandboxUser, UserStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allowed_accounts")]


@pytest.fixture
def jill(account_a: SandboxAccount, make_sandbox_user: Callable[..., SandboxUser]) -> SandboxUser:
    return make_sandbox_user(
        account_a,
        user_name="jill.chill@acme.example.com",
        given_name="Jill",
        family_name="Chill",
        department="Engineering",
        title="API Developer",
        employee_number="E-1",
    )


@pytest.fixture
def site(
    admin_a: SandboxUser,
    sandbox_owner: SandboxUser,
    jill: SandboxUser,
    stored_connection: Callable[..., ZoomConnection],
    mirror_sync: Callable[[ZoomAccount], SyncRun],
) -> tuple[Client, ZoomAccount]:
    connection = stored_connection(admin_a)
    mirror_sync(connection.account)
    client = Client()
    client.force_login(connection.user)
    session = client.session
    session[CURRENT_SESSION_KEY] = connection.pk
    session.save()
    return client, connection.account


def _url(account: ZoomAccount, user: SandboxUser, tail: str = "") -> str:
    return f"/a/{account.zoom_id}/users/{user.zoom_id}/{tail}"


def test_detail_reads_zoom_live_and_refreshes_the_mirror(site: tuple[Client, ZoomAccount], jill: SandboxUser) -> None:
    client, account = site
    row = DirectoryUser.objects.get(account=account, zoom_id=jill.zoom_id)
    assert row.enrichment_pending
    assert row.title == ""
    SandboxUser.objects.filter(pk=jill.pk).update(title="Staff Engineer")
    response = client.get(_url(account, jill))
    assert response.status_code == 200
    assert "Staff Engineer" in response.content.decode()
    row.refresh_from_db()
    assert row.title == "Staff Engineer"
    assert not row.enrichment_pending


def test_edit_job_title_in_place(site: tuple[Client, ZoomAccount], jill: SandboxUser) -> None:
    client, account = site
    form = client.get(_url(account, jill, "edit/"), headers={"HX-Request": "true"})
    assert 'data-testid="edit-form"' in form.content.decode()
    assert "<html" not in form.content.decode()
    data = {**form.context["form"].initial, "title": "Principal Engineer", "user_type": ""}
    response = client.post(_url(account, jill, "edit/"), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="profile"' in body
    assert "Principal Engineer" in body
    # The history card comes along out of band, with the change just made.
    history = body[body.index('<div id="change-history" hx-swap-oob="true">') :]
    assert "Update user" in history
    assert "Principal Engineer" in history
    jill.refresh_from_db()
    assert jill.title == "Principal Engineer"
    assert DirectoryUser.objects.get(account=account, zoom_id=jill.zoom_id).title == "Principal Engineer"
    event = AuditEvent.objects.get(action=AuditAction.USER_UPDATE)
    assert event.result == AuditResult.SUCCESS
    # Only the field that changed was sent and recorded.
    assert event.changes == {"title": ["API Developer", "Principal Engineer"]}


def test_zoom_refusal_shows_beside_the_field_and_changes_nothing(
    site: tuple[Client, ZoomAccount],
    jill: SandboxUser,
    account_a: SandboxAccount,
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    client, account = site
    make_sandbox_user(account_a, user_name="taken@acme.example.com", employee_number="E-2")
    response = client.get(_url(account, jill))  # the row is enriched, as an admin would see it
    form = client.get(_url(account, jill, "edit/"))
    data = {**form.context["form"].initial, "employee_number": "E-2", "title": "Changed too", "user_type": ""}
    response = client.post(_url(account, jill, "edit/"), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "employee_number" in errors
    assert '<div id="change-history" hx-swap-oob="true">' in response.content.decode()  # the refusal is history too
    assert "already in use" in errors["employee_number"][0]
    jill.refresh_from_db()
    assert (jill.employee_number, jill.title) == ("E-1", "API Developer")
    row = DirectoryUser.objects.get(account=account, zoom_id=jill.zoom_id)
    assert row.title == "API Developer"
    event = AuditEvent.objects.get(action=AuditAction.USER_UPDATE)
    assert event.result == AuditResult.FAILURE
    assert event.zoom_status == 409


def test_edit_without_javascript_redirects(site: tuple[Client, ZoomAccount], jill: SandboxUser) -> None:
    client, account = site
    form = client.get(_url(account, jill, "edit/"))
    assert "<html" in form.content.decode()
    assert 'id="change-history" hx-swap-oob' not in form.content.decode()
    data = {**form.context["form"].initial, "department": "Research", "user_type": ""}
    response = client.post(_url(account, jill, "edit/"), data)
    assert response.status_code == 302
    assert response["Location"] == _url(account, jill)
    jill.refresh_from_db()
    assert jill.department == "Research"


def test_deactivate_and_reactivate(site: tuple[Client, ZoomAccount], jill: SandboxUser) -> None:
    client, account = site
    response = client.post(_url(account, jill, "active/"), {"active": "false"})
    assert response.status_code == 302
    jill.refresh_from_db()
    assert jill.status == UserStatus.INACTIVE
    assert DirectoryUser.objects.get(account=account, zoom_id=jill.zoom_id).status == "inactive"
    response = client.post(_url(account, jill, "active/"), {"active": "true"}, headers={"HX-Request": "true"})
    assert "Reactivated" in response.content.decode()
    history = response.content.decode().split('<div id="change-history" hx-swap-oob="true">')[1]
    assert "Reactivate user" in history
    assert "Deactivate user" in history
    jill.refresh_from_db()
    assert jill.status == UserStatus.ACTIVE
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "result"))
    assert actions == [(AuditAction.USER_DEACTIVATE, "success"), (AuditAction.USER_REACTIVATE, "success")]


def test_admins_cannot_be_deactivated_and_say_why(site: tuple[Client, ZoomAccount], admin_a: SandboxUser) -> None:
    client, account = site
    page = client.get(_url(account, admin_a)).content.decode()
    assert "Zoom does not deactivate a user with the Admin role" in page
    assert "disabled" in page
    # A forged POST reaches Zoom, which refuses: the sentence is shown, the mirror is unchanged.
    response = client.post(_url(account, admin_a, "active/"), {"active": "false"}, follow=True)
    assert "cannot be deactivated" in response.content.decode()
    admin_a.refresh_from_db()
    assert admin_a.status == UserStatus.ACTIVE
    assert DirectoryUser.objects.get(account=account, zoom_id=admin_a.zoom_id).status == "active"
    assert AuditEvent.objects.get().result == AuditResult.FAILURE


def test_delete_needs_the_typed_email(site: tuple[Client, ZoomAccount], jill: SandboxUser) -> None:
    client, account = site
    response = client.post(_url(account, jill, "delete/"), {"confirm_email": "someone@else"})
    assert response.status_code == 422
    assert "nothing was deleted" in response.content.decode()
    assert SandboxUser.objects.filter(pk=jill.pk).exists()
    response = client.post(_url(account, jill, "delete/"), {"confirm_email": "JILL.chill@acme.example.com"})
    assert response.status_code == 302
    assert not SandboxUser.objects.filter(pk=jill.pk).exists()
    assert not DirectoryUser.objects.filter(account=account, zoom_id=jill.zoom_id).exists()
    assert AuditEvent.objects.get(action=AuditAction.USER_DELETE).result == AuditResult.SUCCESS


def test_owner_cannot_be_deleted(site: tuple[Client, ZoomAccount], sandbox_owner: SandboxUser) -> None:
    client, account = site
    page = client.get(_url(account, sandbox_owner, "delete/")).content.decode()
    assert "The account owner cannot be deleted." in page
    client.post(_url(account, sandbox_owner, "delete/"), {"confirm_email": sandbox_owner.user_name})
    assert SandboxUser.objects.filter(pk=sandbox_owner.pk).exists()


def test_create_user(site: tuple[Client, ZoomAccount], account_a: SandboxAccount) -> None:
    client, account = site
    url = f"/a/{account.zoom_id}/users/new/"
    data = {"email": "new.person@acme.example.com", "first_name": "New", "last_name": "Person", "user_type": "Basic"}
    response = client.post(url, data)
    created = SandboxUser.objects.get(account=account_a, user_name="new.person@acme.example.com")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/users/{created.zoom_id}/")
    assert DirectoryUser.objects.filter(account=account, zoom_id=created.zoom_id).exists()
    # The same email again: Zoom's refusal appears beside the email field.
    response = client.post(url, data)
    assert response.status_code == 422
    assert "already exists" in response.context["form"].errors["email"][0]
    events = list(
        AuditEvent.objects.filter(action=AuditAction.USER_CREATE).order_by("id").values_list("result", flat=True)
    )
    assert events == [AuditResult.SUCCESS, AuditResult.FAILURE]


def test_rate_limit_and_outage_are_sentences(
    site: tuple[Client, ZoomAccount], jill: SandboxUser, account_a: SandboxAccount
) -> None:
    client, account = site
    account_a.error_rate = 1.0
    account_a.save()
    response = client.get(_url(account, jill))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Zoom did not answer" in body
    assert "server error" in body
    response = client.post(_url(account, jill, "active/"), {"active": "false"}, follow=True)
    assert "server error" in response.content.decode()
    assert DirectoryUser.objects.get(account=account, zoom_id=jill.zoom_id).status == "active"


def test_unknown_user_is_404(site: tuple[Client, ZoomAccount]) -> None:
    client, account = site
    assert client.get(f"/a/{account.zoom_id}/users/no-such-user/").status_code == 404
    assert client.post(f"/a/{account.zoom_id}/users/no-such-user/active/", {"active": "false"}).status_code == 404
