"""Both sites have an icon: linked from their pages, and at /favicon.ico for pages without a link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(live_server: Any) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("host", "icon"), [("localhost", "img/favicon.ico"), ("sandbox.localhost", "img/sandbox-icon.ico")]
)
def test_favicon_ico_leads_to_the_site_icon(live: httpx2.Client, host: str, icon: str) -> None:
    redirect = live.get("/favicon.ico", headers={"Host": host})

    assert redirect.status_code == 302
    assert redirect.headers["Location"] == f"/static/{icon}"
    image = live.get(redirect.headers["Location"], headers={"Host": host})
    assert image.status_code == 200
    assert image.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize(
    ("host", "page", "icons"),
    [
        ("localhost", "/login", ["img/favicon.ico", "img/logo.svg"]),
        ("sandbox.localhost", "/", ["img/sandbox-icon.ico", "img/sandbox-icon.svg"]),
    ],
)
def test_pages_link_their_icons_and_the_icons_load(live: httpx2.Client, host: str, page: str, icons: list[str]) -> None:
    html = live.get(page, headers={"Host": host})

    assert html.status_code == 200
    for icon in icons:
        assert f'<link rel="icon" href="/static/{icon}"' in html.text
        assert live.get(f"/static/{icon}", headers={"Host": host}).status_code == 200
