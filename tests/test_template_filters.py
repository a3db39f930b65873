"""The filters every template has without `{% load %}`: `ago` and `duration` say how long, in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone


def render(when: object) -> str:
    return Template("{{ when|ago }}").render(Context({"when": when}))


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(seconds=-30), "just now"),  # a clock a little ahead of ours
        (timedelta(minutes=5, seconds=10), "5\xa0minutes ago"),
        (timedelta(days=2, hours=3, minutes=1), "2\xa0days, 3\xa0hours ago"),
    ],
)
def test_ago_says_how_long_ago_in_words(offset: timedelta, text: str) -> None:
    assert render(timezone.now() - offset) == text


def test_ago_of_nothing_is_empty() -> None:
    assert render(None) == ""


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "under a second"),
        (0.4, "under a second"),
        (1, "about 1 s"),
        (89.4, "about 89 s"),
        (90, "about 2 min"),
        (12 * 60 + 10, "about 12 min"),
        (89 * 60, "about 89 min"),
        (2 * 3600 + 5 * 60, "about 2 h 5 min"),
        (3 * 3600, "about 3 h"),
    ],
)
def test_duration_says_how_long_in_words(seconds: float | None, text: str) -> None:
    assert Template("{{ seconds|duration }}").render(Context({"seconds": seconds})) == text
