"""gunicorn settings shared by bin/demo, the Dockerfile and docker-compose (`-c python:zoomadmin.gunicorn`)."""

from __future__ import annotations

accesslog = "-"
# Paths only, never query strings: the OAuth callback's carries a sign-in code and state.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
