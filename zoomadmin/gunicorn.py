"""gunicorn settings shared by bin/demo, the Dockerfile and docker-compose (`-c python:zoomadmin.gunicorn`)."""

from __future__ import annotations

import gc
from typing import Any

accesslog = "-"
# Paths only, never query strings: the OAuth callback's carries a sign-in code and state.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker: Any) -> None:
    """Keep what a worker loaded at start (Django, the project, their modules) out of Python's full
    collections: otherwise each one walks all of it, pausing every thread of the worker (up to
    160 ms measured in a sync, docs/benchmarks.md). Refcounting still frees those objects."""
    gc.freeze()
