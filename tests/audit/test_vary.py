"""The audit log answers a full page and an htmx partial at one URL, so its answers vary on HX-Request."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import has_vary_header

from zoomadmin.accounts.models import ZoomConnection

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "partial"])
def test_both_renderings_vary_on_hx_request(client_a: Client, connection_a: ZoomConnection, htmx: bool) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    answer = client_a.get(reverse("audit:list", args=[connection_a.account.zoom_id]), headers=headers)

    assert answer.status_code == 200
    assert ("<html" in answer.content.decode()) is not htmx
    # Without it the browser may serve the cached partial as the page (the back button after hx-push-url).
    assert has_vary_header(answer, "HX-Request")
