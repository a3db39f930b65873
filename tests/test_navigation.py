"""The primary navigation on real pages: every item leads to a page that marks that item, and only it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from zoomadmin.navigation import SECTIONS
from zoomadmin.sandbox.models import SandboxUser

pytestmark = pytest.mark.django_db

_NAV = re.compile(r'<nav class="primary-nav" aria-label="Primary">(.*?)</nav>', re.S)
_LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def _nav(client: Client, url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(label, href) of every nav item on the page at `url`, and the labels marked current."""
    answer = client.get(url, follow=True)
    assert answer.status_code == 200, answer.content[:500]
    nav = _NAV.search(answer.content.decode())
    assert nav, "the signed-in page has no primary navigation"
    links = _LINK.findall(nav.group(1))
    return [(label, href) for href, _, label in links], [label for _, current, label in links if current]


def test_every_nav_item_leads_to_a_page_that_marks_it(signed_in: Callable[..., Client], admin_a: SandboxUser) -> None:
    client = signed_in(admin_a)

    # The home page of a signed-in admin is the account's overview.
    items, current = _nav(client, "/")
    assert current == ["Overview"]
    labels = [label for label, _ in items]
    # The sections whose apps exist today; the others join as their URLs are added.
    assert {"Overview", "Audit log"} <= set(labels)
    for label, href in items:
        assert f"/a/{admin_a.account.zoom_id}/" in href or label == "Overview"
        _, marked = _nav(client, href)
        assert marked == [label], href


def test_pages_outside_every_section_mark_none(signed_in: Callable[..., Client], admin_a: SandboxUser) -> None:
    client = signed_in(admin_a)

    for url in ("/accounts/", f"/a/{admin_a.account.zoom_id}/settings"):
        _, current = _nav(client, url)
        assert current == [], url


@pytest.mark.parametrize(
    ("namespace", "url_name", "label"),
    [
        ("account", "overview", "Overview"),
        ("accounts", "home", "Overview"),
        ("directory", "users", "Users"),
        ("directory", "user_edit", "Users"),
        ("directory", "sync", "Users"),
        ("directory", "groups", "Groups"),
        ("directory", "group_members_add", "Groups"),
        ("imports", "list", "Imports"),
        ("imports", "detail", "Imports"),
        ("audit", "list", "Audit log"),
        ("audit", "export", "Audit log"),
    ],
)
def test_each_page_name_belongs_to_one_section(namespace: str, url_name: str, label: str) -> None:
    owners = [section.label for section in SECTIONS if section.owns_page(namespace, url_name)]
    assert owners == [label]


def test_every_account_page_breadcrumb_starts_at_the_account() -> None:
    """Breadcrumbs read the same everywhere: the account's name (its overview) first, then the section."""
    templates = Path(settings.BASE_DIR) / "templates"
    crumbs = {
        path.relative_to(templates).as_posix(): match.group(1)
        for path in templates.rglob("*.html")
        if (match := re.search(r"{% block breadcrumbs %}(.*?){% endblock %}", path.read_text(encoding="utf-8")))
        and match.group(1)  # base.html's own block is empty
    }
    assert len(crumbs) >= 10
    first_link = re.compile(r'^<nav aria-label="Breadcrumb" class="breadcrumbs"><a href="([^"]+)">([^<]+)</a>')
    wrong = {
        name: crumb
        for name, crumb in crumbs.items()
        if (found := first_link.match(crumb)) is None
        or found.groups() != ("{% url 'account:overview' account.zoom_id %}", "{{ account.name }}")
    }
    assert wrong == {}
