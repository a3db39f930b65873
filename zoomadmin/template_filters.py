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


@register.filter
def duration(seconds: float | str | None) -> str:
    """A length of time for a person: "under a second", "about 40 s", "about 12 min", "about 2 h 5 min".

    An empty value (a missing variable renders as "") gives an empty string.
    """
    if seconds is None or seconds == "":
        return ""
    total = round(float(seconds))
    if total < 1:
        return "under a second"
    if total < 90:
        return f"about {total} s"
    minutes = round(total / 60)
    if minutes < 90:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
