"""The sandbox seed: realistic, deterministic accounts, and the sandbox's index page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus

USER_FIELDS = [
    "zoom_id", "user_name", "given_name", "family_name", "display_name", "status", "role", "user_type", "title",
    "locale", "location", "phone_numbers", "department", "organization", "cost_center", "employee_number",
    "manager", "login_work_email", "login_sso", "zoom_extension", "created", "last_modified", "version",
]  # fmt: skip


def seed(**options: Any) -> str:
    out = StringIO()
    options.setdefault("users", 300)
    options.setdefault("groups", 12)
    call_command("sandbox_seed", stdout=out, **options)
    return out.getvalue()


def snapshot(account: SandboxAccount) -> dict[str, Any]:
    """Everything the seed wrote for an account, in a comparable form (ids included)."""
    users = list(account.users.order_by("id").values_list(*USER_FIELDS))
    groups = list(
        account.groups.order_by("id").values_list(
            "zoom_id", "display_name", "email_alias", "is_default", "created", "last_modified", "version"
        )
    )
    members = sorted(
        SandboxGroup.members.through.objects.filter(sandboxgroup__account=account).values_list(
            "sandboxgroup__zoom_id", "sandboxuser__zoom_id"
        )
    )
    return {"account": account.zoom_id, "users": users, "groups": groups, "members": members}


@pytest.mark.django_db
def test_small_seed_through_call_command_prints_a_summary() -> None:
    output = seed(users=300, groups=12, account_name="Acme Corp", domain="acme.example.com")

    account = SandboxAccount.objects.get(name="Acme Corp")
    assert account.vanity_domain == "acme.example.com"
    assert account.plan == "business"
    assert account.users.count() == 300
    assert account.groups.count() == 12
    assert account.zoom_id in output
    assert "owner@acme.example.com" in output
    assert "admin@acme.example.com" in output
    assert "300 (285 active, 9 inactive, 6 pending)" in output


@pytest.mark.django_db
def test_roles_statuses_and_licenses_have_realistic_proportions() -> None:
    seed(users=2000, groups=30, domain="big.example.com")
    account = SandboxAccount.objects.get(vanity_domain="big.example.com")
    users = list(account.users.all())

    roles = Counter(u.role for u in users)
    assert roles[Role.OWNER] == 1
    assert roles[Role.ADMIN] == 4  # 0.2 % of 2,000
    first_admin = min((u for u in users if u.role == Role.ADMIN), key=lambda u: u.pk)
    assert first_admin.user_name == "admin@big.example.com"
    statuses = Counter(u.status for u in users)
    assert statuses[UserStatus.INACTIVE] == 60
    assert statuses[UserStatus.PENDING] == 40
    owner = next(u for u in users if u.role == Role.OWNER)
    assert owner.user_name == "owner@big.example.com"
    assert owner.status == UserStatus.ACTIVE
    # Zoom refuses to deactivate owners and admins, so the seed never has such users.
    assert all(u.status == UserStatus.ACTIVE for u in users if u.role != Role.MEMBER)
    licensed = [u for u in users if u.user_type == "Licensed"]
    assert 0.6 < len(licensed) / len(users) < 0.8
    assert all("zoomWhiteboard" in u.zoom_extension and "zoomHuddles" in u.zoom_extension for u in licensed)
    assert all(u.user_type == "Basic" for u in users if u.status == UserStatus.PENDING)
    departments = Counter(u.department for u in users)
    assert len(departments) >= 10
    assert departments.most_common(1)[0][0] == "Engineering"
    assert len({u.location for u in users}) >= 10
    assert len({u.given_name for u in users}) >= 100
    assert all(u.phone_numbers and u.phone_numbers[0]["value"].startswith("+") for u in users)
    assert all(u.locale and u.title and u.employee_number for u in users)


@pytest.mark.django_db
def test_a_free_account_has_no_licensed_members() -> None:
    seed(users=200, groups=4, plan="free", domain="free.example.com")
    members = SandboxUser.objects.filter(account__vanity_domain="free.example.com", role=Role.MEMBER)
    assert set(members.values_list("user_type", flat=True)) == {"Basic"}


@pytest.mark.django_db
def test_managers_are_users_of_the_same_account_in_a_hierarchy_under_the_owner() -> None:
    seed(users=1500, groups=20, domain="org.example.com")
    seed(users=100, groups=5, account_name="Other", domain="other.example.com", seed=1)
    users = {u.user_name: u for u in SandboxUser.objects.filter(account__vanity_domain="org.example.com")}
    owner = next(u for u in users.values() if u.role == Role.OWNER)

    assert owner.manager == ""
    for user in users.values():
        if user is owner:
            continue
        manager = users[user.manager]  # KeyError when the manager is missing or in another account
        assert manager.department == user.department or manager is owner
        chain, current = 0, user
        while current is not owner:
            current = users[current.manager]
            chain += 1
            assert chain < 5, f"{user.user_name} does not reach the owner"
    heads = [u for u in users.values() if u.manager == owner.user_name and u.department != owner.department]
    assert len(heads) == len({u.department for u in users.values()}) - 1


@pytest.mark.django_db
def test_groups_default_departments_and_memberships() -> None:
    seed(users=800, groups=25, domain="grp.example.com")
    account = SandboxAccount.objects.get(vanity_domain="grp.example.com")
    groups = {g.display_name: g for g in account.groups.prefetch_related("members")}

    assert len(groups) == 25
    default = [g for g in groups.values() if g.is_default]
    assert [g.display_name for g in default] == ["All users"]
    assert default[0].members.count() == 800
    for user in account.users.all():
        assert user in groups[user.department].members.all()
    others = [
        g
        for g in groups.values()
        if not g.is_default and g.display_name not in {u.department for u in account.users.all()}
    ]
    assert others
    assert all(g.members.exists() for g in others)
    member_accounts = set(
        SandboxGroup.members.through.objects.filter(sandboxgroup__account=account).values_list(
            "sandboxuser__account_id", flat=True
        )
    )
    assert member_accounts == {account.pk}


@pytest.mark.django_db
def test_emails_and_employee_numbers_are_unique() -> None:
    seed(users=3000, groups=10, domain="uniq.example.com")
    rows = list(
        SandboxUser.objects.filter(account__vanity_domain="uniq.example.com").values_list(
            "user_name", "employee_number"
        )
    )
    emails = [email.lower() for email, _ in rows]
    assert len(set(emails)) == 3000
    assert all(email.endswith("@uniq.example.com") and email.isascii() for email in emails)
    assert len({number for _, number in rows}) == 3000


@pytest.mark.django_db
def test_same_seed_gives_byte_identical_data_ids_included() -> None:
    seed(users=400, groups=15, seed=7, domain="det.example.com")
    first = snapshot(SandboxAccount.objects.get(vanity_domain="det.example.com"))
    SandboxAccount.objects.all().delete()  # ids are globally unique: free them for the reseed

    seed(users=400, groups=15, seed=7, domain="det.example.com")
    second = snapshot(SandboxAccount.objects.get(vanity_domain="det.example.com"))

    assert first == second
    assert len(first["members"]) > 800


@pytest.mark.django_db
def test_same_seed_into_two_accounts_differs_only_in_ids_and_domain() -> None:
    seed(users=300, groups=10, seed=5, account_name="First", domain="first.example.com")
    seed(users=300, groups=10, seed=5, account_name="Second", domain="second.example.com")
    seed(users=300, groups=10, seed=6, account_name="Third", domain="third.example.com")

    def people(name: str) -> list[tuple[Any, ...]]:
        rows = SandboxUser.objects.filter(account__name=name).order_by("id")
        return [
            (
                u.user_name.split("@")[0],
                u.manager.split("@")[0],
                u.display_name,
                u.department,
                u.title,
                u.status,
                u.role,
            )
            for u in rows
        ]

    assert people("First") == people("Second")
    assert people("First") != people("Third")
    first_ids = set(SandboxUser.objects.filter(account__name="First").values_list("zoom_id", flat=True))
    second_ids = set(SandboxUser.objects.filter(account__name="Second").values_list("zoom_id", flat=True))
    assert not first_ids & second_ids


@pytest.mark.django_db
def test_if_empty_leaves_a_populated_account_alone() -> None:
    seed(users=120, groups=6, account_name="Acme Corp")
    before = snapshot(SandboxAccount.objects.get(name="Acme Corp"))

    output = seed(users=500, groups=30, account_name="Acme Corp", if_empty=True)

    assert "left as it is" in output
    assert snapshot(SandboxAccount.objects.get(name="Acme Corp")) == before
    with pytest.raises(CommandError, match="already has users"):
        seed(users=500, groups=30, account_name="Acme Corp")
    assert SandboxAccount.objects.get(name="Acme Corp").users.count() == 120


def test_if_empty_fills_an_account_without_users_keeping_its_id_and_default_group(
    make_sandbox_account: Callable[..., SandboxAccount],
) -> None:
    account = make_sandbox_account(name="Initech", vanity_domain="initech.example.com")
    default_group = account.groups.get(is_default=True)

    output = seed(users=50, groups=5, account_name="Initech", if_empty=True)

    assert "Seeded" in output
    assert SandboxAccount.objects.get(name="Initech").zoom_id == account.zoom_id
    assert account.users.count() == 50
    assert account.users.filter(user_name="owner@initech.example.com", role=Role.OWNER).exists()
    assert account.groups.count() == 5
    assert list(account.groups.filter(is_default=True)) == [default_group]
    assert default_group.members.count() == 50


def test_seed_leaves_other_accounts_alone_and_refuses_their_domain(
    sandbox_owner: SandboxUser, sandbox_admin: SandboxUser
) -> None:
    acme = sandbox_owner.account
    acme_before = snapshot(acme)

    with pytest.raises(CommandError, match="already belongs to another sandbox account"):
        seed(users=50, groups=3, account_name="Impostor", domain="ACME.example.com")
    assert not SandboxAccount.objects.filter(name="Impostor").exists()

    seed(users=50, groups=3, account_name="Neighbour", domain="neighbour.example.com")
    assert snapshot(acme) == acme_before
    assert SandboxAccount.objects.get(name="Neighbour").users.count() == 50


@pytest.mark.django_db
@pytest.mark.parametrize(("users", "groups"), [(3, 1), (5, 2), (40, 3)])
def test_tiny_accounts_still_have_an_owner_two_admins_and_their_groups(users: int, groups: int) -> None:
    seed(users=users, groups=groups, domain="tiny.example.com")
    account = SandboxAccount.objects.get(vanity_domain="tiny.example.com")

    assert account.users.count() == users
    assert account.groups.count() == groups
    assert account.users.filter(role=Role.OWNER).count() == 1
    assert set(account.users.filter(role=Role.ADMIN).values_list("status", flat=True)) == {UserStatus.ACTIVE}
    assert account.users.filter(role=Role.ADMIN).count() == 2
    assert account.groups.get(is_default=True).members.count() == users


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [({"users": 2}, "at least 3"), ({"groups": 0}, "at least 1"), ({"plan": "enterprise"}, "must be one of")],
)
def test_bad_sizes_are_refused_with_a_clear_message(options: dict[str, Any], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        seed(**options)
    assert not SandboxAccount.objects.exists()


def test_index_lists_accounts_with_counts_and_apps_without_secrets(
    client: Client, sandbox_app: OAuthApp, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    seed(users=300, groups=12, account_name="Acme Corp", domain="acme.example.com")
    SandboxAccount.objects.filter(name="Acme Corp").update(error_rate=0.25)
    seed(users=40, groups=3, account_name="Globex", domain="globex.example.com", seed=3)

    with django_assert_max_num_queries(6):
        response = client.get("/", HTTP_HOST="sandbox.test")

    assert response.status_code == 200
    page = response.content.decode()
    acme = SandboxAccount.objects.get(name="Acme Corp")
    assert acme.zoom_id in page
    assert "300 users: 285 active, 9 deactivated, 6 pending · 2 admins" in page
    assert "12 groups" in page
    assert "owner@acme.example.com" in page
    assert "error_rate=0.25" in page
    assert "Globex" in page
    assert sandbox_app.client_id in page
    assert sandbox_app.client_secret not in page
    assert "https://developers.zoom.us/docs/api/scim2/" in page


def test_index_escapes_account_names(client: Client, make_sandbox_account: Callable[..., SandboxAccount]) -> None:
    make_sandbox_account(name="<script>alert(1)</script>")

    response = client.get("/", HTTP_HOST="sandbox.test")

    assert response.status_code == 200
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


@pytest.mark.django_db
def test_index_of_an_empty_sandbox_says_how_to_seed(client: Client) -> None:
    response = client.get("/", HTTP_HOST="sandbox.test")

    assert response.status_code == 200
    assert "manage.py sandbox_seed" in response.content.decode()
