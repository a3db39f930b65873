"""How `zoomadmin.zoom` reaches Zoom: the transport, timeouts and User-Agent every call shares.

Tests and the demo point `ZOOM_HTTP_TRANSPORT` at the sandbox's in-process transport; production
leaves it empty and httpx2 opens real connections.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from collections.abc import Callable
from functools import cache
from typing import Any, cast

import httpx2
from django.conf import settings
from django.utils.module_loading import import_string


def default_transport() -> httpx2.BaseTransport | None:
    """A transport from the `ZOOM_HTTP_TRANSPORT` factory, or None for the network."""
    dotted = settings.ZOOM_HTTP_TRANSPORT
    if not dotted:
        return None
    factory = cast(Callable[[], httpx2.BaseTransport], import_string(dotted))
    return factory()


def default_timeout(seconds: float | None = None) -> httpx2.Timeout:
    """Explicit connect/read/write/pool timeouts: `ZOOM_HTTP_TIMEOUT` unless `seconds` is given.

    Connecting and waiting for a pooled connection get at most 10 s: when Zoom cannot even be
    reached, an admin should hear so quickly, whatever the read timeout.
    """
    total = settings.ZOOM_HTTP_TIMEOUT if seconds is None else seconds
    short = min(total, 10.0)
    return httpx2.Timeout(connect=short, read=total, write=total, pool=short)


@cache
def user_agent() -> str:
    """`zoomadmin/<version>`, from the installed distribution or, in a source checkout, pyproject.toml."""
    try:
        version = importlib.metadata.version("zoomadmin")
    except importlib.metadata.PackageNotFoundError:
        with (settings.BASE_DIR / "pyproject.toml").open("rb") as file:
            version = str(tomllib.load(file)["project"]["version"])
    return f"zoomadmin/{version}"


def json_object(response: httpx2.Response) -> dict[str, Any]:
    """The response's JSON object, or {} for an empty, non-JSON or non-object body."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
