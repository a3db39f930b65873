"""Filters every template may use without `{% load %}` (TEMPLATES' `builtins`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()

# Under a minute, "0 minutes ago" reads like a bug; a clock a little ahead of ours is "just now" too.
JUST_NOW = timedelta(minutes=1)


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago `value` was, for a person: "just now", "5 minutes ago", "2 days, 3 hours ago"."""
    if value is None:
        return ""
    if timezone.now() - value < JUST_NOW:
        return "just now"
    return f"{timesince(value)} ago"
