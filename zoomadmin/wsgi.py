from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

from zoomadmin.sandbox import ARRIVED_US

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
_django = get_wsgi_application()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Django's application, noting when the server handed the request over (the sandbox's rate
    limits count a request from then: zoomadmin.sandbox.ARRIVED_US)."""
    environ[ARRIVED_US] = time.time_ns() // 1000
    return _django(environ, start_response)
