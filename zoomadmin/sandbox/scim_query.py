"""Zoom's SCIM list parameters: the few `eq` filters it supports, and 1-based paging.

Zoom documents only `userName eq`, `externalId eq` (which matches the *Zoom user id*) and, for
groups, `displayName eq`. Values may be quoted (`"a@b.com"`, with `\\"` escapes) or bare
(`a@b.com`, as Zoom's own docs write them). Everything else, including `and`/`or` and other
operators, is refused with Zoom's "does not support the filter name" 400.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.http import QueryDict

from zoomadmin.sandbox.api import ScimError
from zoomadmin.sandbox.models import SandboxAccount

USER_FILTER_ATTRIBUTES = ("userName", "externalId")
GROUP_FILTER_ATTRIBUTES = ("displayName",)

_FILTER_RE = re.compile(r"^\s*(?P<attr>[A-Za-z][A-Za-z0-9_]*)\s+(?P<op>eq)\s+(?P<value>.+?)\s*$", re.IGNORECASE)
_QUOTED_RE = re.compile(r'^"(?P<body>(?:[^"\\]|\\.)*)"$', re.DOTALL)
_LOGICAL_RE = re.compile(r"\s(and|or|not)\s", re.IGNORECASE)
_UNQUOTED_FORBIDDEN = re.compile(r'["()\[\]]')


@dataclass(frozen=True)
class ScimFilter:
    """One supported filter: `attribute` in its canonical spelling, and the unquoted value."""

    attribute: str
    value: str


@dataclass(frozen=True)
class Page:
    """A 1-based page: `start_index` as answered, `offset` and `count` for the query."""

    start_index: int
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1


def filter_parse(*, raw: str, allowed: tuple[str, ...]) -> ScimFilter:
    """Parse `raw` as `<attribute> eq <value>` for one of the `allowed` attributes.

    Attribute names and the operator are case-insensitive (as in RFC 7644). Anything else
    raises Zoom's 400 "The current filter does not support the filter name: {filter}".
    """
    refused = ScimError(400, f"The current filter does not support the filter name: {raw}")
    match = _FILTER_RE.match(raw)
    if match is None:
        raise refused
    canonical = {name.lower(): name for name in allowed}
    attribute = canonical.get(match["attr"].lower())
    if attribute is None:
        raise refused
    value_text = match["value"]
    quoted = _QUOTED_RE.match(value_text)
    if quoted is not None:
        value = unquote(quoted["body"])
    else:
        # A bare value runs to the end of the filter; a logical operator or a stray quote in it
        # means a compound or malformed filter, which Zoom does not support.
        if _LOGICAL_RE.search(f" {value_text} ") or _UNQUOTED_FORBIDDEN.search(value_text):
            raise refused
        value = value_text
    if not value.strip():
        raise refused
    return ScimFilter(attribute=attribute, value=value)


def unquote(body: str) -> str:
    """The text of a quoted filter literal's inside: JSON string escapes (`\\"`, `\\\\`, `\\u00e9`)."""
    try:
        value = json.loads(f'"{body}"')
    except ValueError:
        # Not valid JSON (e.g. `\\x`): a backslash simply escapes the next character.
        return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)
    return value if isinstance(value, str) else body


def _int_param(params: QueryDict, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw.strip())
    except ValueError as exc:
        raise ScimError(400, f"The {name} parameter must be an integer.") from exc


def page_parse(*, params: QueryDict, account: SandboxAccount) -> Page:
    """`startIndex` (default 1, values below 1 count as 1) and `count` (default and cap per account).

    A negative `count` counts as 0, as RFC 7644 says; 0 answers only `totalResults`.
    """
    start_index = _int_param(params, "startIndex")
    count = _int_param(params, "count")
    start_index = 1 if start_index is None or start_index < 1 else start_index
    if count is None:
        count = account.page_default_count
    count = max(0, min(count, account.page_max_count))
    return Page(start_index=start_index, count=count)
