"""SCIM filter building: Zoom's `eq` on a short list of attributes, values safely quoted."""

from __future__ import annotations

import pytest

from zoomadmin.zoom.filters import UnsupportedFilter, eq


@pytest.mark.parametrize(
    ("attribute", "value", "expected"),
    [
        ("userName", "a@b.com", 'userName eq "a@b.com"'),
        ("externalId", "k&KdKr6TLWuxdDtk0hjSzL", 'externalId eq "k&KdKr6TLWuxdDtk0hjSzL"'),
        ("displayName", 'Sales "EMEA"', r'displayName eq "Sales \"EMEA\""'),
        ("displayName", "back\\slash", r'displayName eq "back\\slash"'),
        ("displayName", "Zürich", 'displayName eq "Zürich"'),
        ("userName", 'x" or userName pr or "', r'userName eq "x\" or userName pr or \""'),
    ],
)
def test_eq_quotes_and_escapes(attribute: str, value: str, expected: str) -> None:
    assert eq(attribute, value) == expected


@pytest.mark.parametrize("attribute", ["title", "emails.value", 'userName eq "x" or id', "USERNAME", ""])
def test_eq_refuses_attributes_zoom_cannot_filter(attribute: str) -> None:
    with pytest.raises(UnsupportedFilter) as caught:
        eq(attribute, "x")
    assert "userName" in str(caught.value)
