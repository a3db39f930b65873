"""The dashboard's own error pages: not found, not allowed, an expired form, a crash. Each says what happened
in a sentence, in the product's layout, with a way back; none shows a class name or a stack trace."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.views.defaults import permission_denied, server_error

from tests.html import page_text
from zoomadmin.sandbox.models import SandboxUser

pytestmark = pytest.mark.django_db


def test_an_address_nothing_answers_is_a_page_not_found_with_the_navigation(
    signed_in: Callable[..., Client], admin_a: SandboxUser
) -> None:
    answer = signed_in(admin_a).get("/no/such/page/")
    assert answer.status_code == 404
    html = answer.content.decode()
    assert "<h1" in html
    assert "Page not found" in html
    assert "There is no page at this address." in html
    assert "Resolver404" not in html
    assert 'class="primary-nav"' in html  # still inside the product, signed in
    assert 'href="/"' in html


def test_a_missing_user_or_another_accounts_page_says_so_in_a_sentence(
    signed_in: Callable[..., Client], admin_a: SandboxUser, admin_b: SandboxUser
) -> None:
    client = signed_in(admin_a)
    answer = client.get(f"/a/{admin_a.account.zoom_id}/groups/no-such-group/")
    assert answer.status_code == 404
    assert "No such group in this account." in page_text(answer.content.decode())
    # Another account's page reads like any unknown account: nothing about it is revealed.
    other = client.get(f"/a/{admin_b.account.zoom_id}/users/")
    assert other.status_code == 404
    assert "No such Zoom account." in page_text(other.content.decode())
    assert admin_b.account.name not in other.content.decode()


def test_a_form_sent_without_its_token_changes_nothing_and_says_to_reload(
    signed_in: Callable[..., Client], admin_a: SandboxUser
) -> None:
    client = signed_in(admin_a, client=Client(enforce_csrf_checks=True))
    answer = client.post(f"/a/{admin_a.account.zoom_id}/groups/new/", {"name": "Never made"})
    assert answer.status_code == 403
    text = page_text(answer.content.decode())
    assert "This form has expired" in text
    assert "Nothing was changed." in text
    assert "CSRF" not in text


def test_not_allowed_and_a_crash_render_without_a_session() -> None:
    request = RequestFactory().get("/somewhere")
    request.user = AnonymousUser()
    request.session = SessionStore()
    denied = permission_denied(request, PermissionError("x"))
    assert denied.status_code == 403
    assert "You cannot do this here" in denied.content.decode()
    crash = server_error(request)
    assert crash.status_code == 500
    html = crash.content.decode()
    assert "Something went wrong on our side" in html
    assert "css/app.css" in html
    assert "Traceback" not in html
    # Rendered with no context at all, as Django does when the crash may have broken everything else.
    assert "Something went wrong" in render_to_string("500.html")
