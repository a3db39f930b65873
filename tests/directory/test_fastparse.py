"""The fast list-page parser reads every payload exactly as scim2-models (`zoomadmin.zoom.models`) does."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import httpx2
import pydantic
import pytest

from zoomadmin.directory.fastparse import (
    Unreadable,
    group_row,
    group_row_from_model,
    groups_page,
    payload_hash,
    user_row,
    user_row_from_model,
    users_page,
)
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus
from zoomadmin.sandbox.seed import account_seed
from zoomadmin.zoom.models import (
    ENTERPRISE_USER_SCHEMA,
    ZOOM_LOGIN_SCHEMA,
    ZOOM_PROFILE_SCHEMA,
    group_parse,
    user_list_parse,
    user_parse,
)


def _same(payload: dict[str, Any]) -> None:
    """The fast row equals the scim2-models row (the shape flag aside: a model always holds lists)."""
    fast = user_row(payload)
    reference = user_row_from_model(user_parse(payload))
    assert fast.__class__(**{**_fields(fast), "groups_listed": True}) == reference


def _fields(row: object) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}  # type: ignore[attr-defined]


@pytest.fixture
def seeded(db: None) -> SandboxAccount:
    account_seed(users=120, groups=12, account_name="Parse Corp", domain="parse.example.com", seed=7)
    return SandboxAccount.objects.get(name="Parse Corp")


def _get(client: httpx2.Client, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("shape", ["object", "array"])
def test_sandbox_payloads_read_alike(
    seeded: SandboxAccount, make_token: Callable[..., str], sandbox_http: httpx2.Client, shape: str
) -> None:
    seeded.roles_groups_shape = shape
    # 50-odd Get calls per run, twice with the same account id: on a quick machine that is over the
    # per-second limit, which this test is not about.
    seeded.rate_limits_enabled = False
    seeded.save()
    owner = SandboxUser.objects.get(account=seeded, role=Role.OWNER)
    sandbox_http.headers["Authorization"] = f"Bearer {make_token(seeded, owner)}"
    listed = _get(sandbox_http, "/scim2/Users", startIndex=1, count=100)
    assert len(listed["Resources"]) == 100
    page = users_page(listed)
    models = user_list_parse(listed).resources or []
    assert page.total_results == listed["totalResults"] == 120
    for item, model in zip(page.items, models, strict=True):
        assert item.row.profile is None  # List users: the reduced projection
        assert item.row.__class__(**{**_fields(item.row), "groups_listed": True}) == user_row_from_model(model)
        assert item.row.groups_listed is (shape == "array")
    # Full profiles (Get user): licenses, manager, organization, cost center, phones, pronouns.
    full = [_get(sandbox_http, f"/scim2/Users/{item.row.zoom_id}") for item in page.items[:40]]
    for payload in full:
        _same(payload)
        assert user_row(payload).profile is not None
    assert any(user_row(payload).profile.licenses for payload in full)  # type: ignore[union-attr]
    assert any(user_row(payload).profile.manager for payload in full)  # type: ignore[union-attr]
    # Groups: list items and Get group with members.
    groups = _get(sandbox_http, "/scim2/Groups", startIndex=1, count=100)
    for item in groups_page(groups).items:
        assert item.row == group_row_from_model(group_parse(item.raw))
        one = _get(sandbox_http, f"/scim2/Groups/{item.row.zoom_id}")
        assert group_row(one) == group_row_from_model(group_parse(one))
        assert group_row(one).member_ids is not None


def _variants(base: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Payloads with missing optional attributes, odd shapes and odd (but valid) values."""
    out: list[dict[str, Any]] = []
    optional = [
        "name",
        "displayName",
        "userType",
        "roles",
        "groups",
        "emails",
        "meta",
        "title",
        "locale",
        "phoneNumbers",
        ENTERPRISE_USER_SCHEMA,
        ZOOM_LOGIN_SCHEMA,
        ZOOM_PROFILE_SCHEMA,
    ]
    for key in optional:
        variant = copy.deepcopy(base)
        variant.pop(key, None)
        out.append(variant)
    weird: list[Callable[[dict[str, Any]], None]] = [
        lambda p: p.update(userName=None),  # email from the primary email instead
        lambda p: p.update(userName="MiXeD.Case@Example.COM"),
        lambda p: p.update(active="False"),
        lambda p: p.update(active="true"),
        lambda p: p.update(active=0),
        lambda p: p.update(displayName='<script>alert("x")</script> \u202eevil \U0001f600' + "x" * 300),
        lambda p: p.update(name={"givenName": None, "familyName": ""}),
        lambda p: p.update(roles=[{"value": "Member"}, {"value": "Admin", "primary": True}]),
        lambda p: p.update(roles={"display": "Owner", "value": "Owner", "primary": True}),
        lambda p: p.update(groups=[]),
        lambda p: p.update(groups=[{"value": "g1", "display": "One"}, {"value": "g2"}]),
        lambda p: p.update(emails=[{"value": "second@example.com"}, {"value": "Primary@example.com", "primary": True}]),
        lambda p: p[ENTERPRISE_USER_SCHEMA].update(manager={"value": "mgr-id", "displayName": "Boss"}),
        lambda p: p[ENTERPRISE_USER_SCHEMA].update(manager={"displayName": "Boss"}),
        lambda p: p[ENTERPRISE_USER_SCHEMA].update(division="Div", customThing="ignored"),
        lambda p: p.update(phoneNumbers={"type": "mobile", "value": "+44 20 7946 0000"}),
        lambda p: p[ZOOM_LOGIN_SCHEMA].update(loginType={"workEmail": "yes", "sso": "no"}),
        lambda p: p[ZOOM_PROFILE_SCHEMA].update(zoomUnited="ZU-Pro", zoomIQ="true", customAttr=5),
        lambda p: p[ZOOM_PROFILE_SCHEMA].clear(),
        lambda p: p.update(unknownTopLevel={"anything": [1, 2]}),
        lambda p: p.update(meta={"lastModified": "2024-02-01T08:30:00+02:00", "created": "2024-01-10T12:00:00Z"}),
    ]
    for change in weird:
        variant = copy.deepcopy(base)
        variant.setdefault(ENTERPRISE_USER_SCHEMA, {})
        variant.setdefault(ZOOM_LOGIN_SCHEMA, {})
        variant.setdefault(ZOOM_PROFILE_SCHEMA, {})
        change(variant)
        out.append(variant)
    # And a few random combinations of the above.
    for _ in range(30):
        variant = copy.deepcopy(base)
        variant.setdefault(ENTERPRISE_USER_SCHEMA, {})
        variant.setdefault(ZOOM_LOGIN_SCHEMA, {})
        variant.setdefault(ZOOM_PROFILE_SCHEMA, {})
        for change in rng.sample(weird, 4):
            change(variant)
        if rng.random() < 0.5:
            variant.pop(rng.choice(optional), None)
        out.append(variant)
    return out


def test_varied_payloads_read_alike(
    sandbox_account: SandboxAccount,
    make_sandbox_user: Callable[..., SandboxUser],
    scim: httpx2.Client,
) -> None:
    user = make_sandbox_user(
        sandbox_account,
        title="Engineer",
        department="R&D",
        organization="Acme",
        cost_center="CC-1",
        employee_number="E1",
        manager="boss@acme.example.com",
        phone_numbers=[{"type": "work", "value": "+1 555 0100"}],
        zoom_extension={"zoomWhiteboard": True, "pronouns": "they/them", "personalLinkName": "me"},
    )
    group = SandboxGroup.objects.get(account=sandbox_account, is_default=True)
    group.members.add(user)
    base = _get(scim, f"/scim2/Users/{user.zoom_id}")
    variants = _variants(base, random.Random(3))
    assert len(variants) > 60
    for payload in variants:
        _same(payload)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(active="maybe"),
        lambda p: p.update(displayName=5),
        lambda p: p.update(roles="Admin"),
        lambda p: p.update(meta={"lastModified": "yesterday"}),
        lambda p: p.update(name="Jill"),
    ],
)
def test_unreadable_payloads_refused_by_both(
    change: Callable[[dict[str, Any]], None],
    sandbox_account: SandboxAccount,
    sandbox_member: SandboxUser,
    scim: httpx2.Client,
) -> None:
    payload = _get(scim, f"/scim2/Users/{sandbox_member.zoom_id}")
    change(payload)
    with pytest.raises(Unreadable):
        user_row(payload)
    with pytest.raises(pydantic.ValidationError):
        user_parse(payload)


def test_payload_hash_ignores_key_order_only() -> None:
    a = {"id": "x", "name": {"givenName": "A", "familyName": "B"}, "active": True}
    b = {"active": True, "name": {"familyName": "B", "givenName": "A"}, "id": "x"}
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash({**a, "active": False})


def test_pending_and_statuses_list_as_inactive(
    sandbox_account: SandboxAccount, sandbox_pending: SandboxUser, scim: httpx2.Client
) -> None:
    # SCIM has no "pending": an invited user lists as active=false (enrichment tells them apart).
    assert sandbox_pending.status == UserStatus.PENDING
    listed = _get(scim, "/scim2/Users", startIndex=1, count=100)
    rows = {item.row.zoom_id: item.row for item in users_page(listed).items}
    assert rows[sandbox_pending.zoom_id].active is False
