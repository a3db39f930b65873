"""Injected latency and failures of a sandbox account (interface; see issue #2)."""

from __future__ import annotations

from django.http import HttpResponse

from zoomadmin.sandbox.models import SandboxAccount


def inject(account: SandboxAccount) -> HttpResponse | None:
    """Sleep the account's latency; return a 5xx/504 response for a failed request, else None."""
    return None
