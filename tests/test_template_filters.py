"""The filters every template has without `{% load %}`: `ago` says how long ago, in words."""

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
