"""SCIM filter expressions for Zoom's list endpoints.

Zoom supports only `eq` on three attributes (`userName`, `externalId` = the Zoom user id, and
`displayName` for groups). Anything else is refused here, before a request is spent on a 400.
Values are written as RFC 7644 JSON strings, so quotes, backslashes and control characters in a
value can never end the string early or smuggle in another clause.
"""

from __future__ import annotations

import json

# Zoom: https://developers.zoom.us/docs/api/scim2/ (List users, List groups: documented filters)
FILTER_ATTRIBUTES = frozenset({"userName", "externalId", "displayName"})


class UnsupportedFilter(ValueError):
    """A filter Zoom cannot answer (an attribute outside its short list)."""


def quote(value: str) -> str:
    """`value` as a SCIM filter string literal: double-quoted, `"` and `\\` escaped (JSON rules)."""
    return json.dumps(value, ensure_ascii=False)


def eq(attribute: str, value: str) -> str:
    """The filter `<attribute> eq "<value>"`, e.g. `userName eq "a@b.com"`.

    Raises `UnsupportedFilter` for an attribute Zoom does not filter on.
    """
    if attribute not in FILTER_ATTRIBUTES:
        allowed = ", ".join(sorted(FILTER_ATTRIBUTES))
        raise UnsupportedFilter(f"Zoom cannot filter on {attribute!r}; it supports only: {allowed}.")
    return f"{attribute} eq {quote(value)}"
