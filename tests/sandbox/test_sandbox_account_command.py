"""`manage.py sandbox_account`: list, show, set (every knob checked) and create."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxGroup, SandboxUser

MakeAccount = Callable[..., SandboxAccount]


def run(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_account", *args, stdout=out)
    return out.getvalue()


def test_list_shows_every_account(make_sandbox_account: MakeAccount) -> None:
    first = make_sandbox_account(name="Initech", plan="pro")
    second = make_sandbox_account(name="Hooli", error_rate=0.25)
    output = run("list")
    assert "Initech" in output
    assert first.zoom_id in output
    assert "Hooli" in output
    assert second.zoom_id in output
    assert "0.25" in output


def test_show_by_name_id_or_zoom_id(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(name="Initech", latency_mean_ms=120)
    for ref in ("initech", str(account.pk), account.zoom_id):
        # "--": a Zoom id may start with "-" (URL-safe base64), which would read as an option.
        output = run("show", "--", ref)
        assert "Initech" in output
        assert "latency_mean_ms = 120" in output
        assert "rate_limits_enabled = false" in output


def test_show_reports_todays_daily_usage(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(name="Free Co", plan="free", rate_limits_enabled=True)
    output = run("show", str(account.pk))
    assert "today Light: 0 of 6000 requests" in output


def test_unknown_account_is_a_clear_error(db: None) -> None:
    with pytest.raises(CommandError, match="no sandbox account 'nope'"):
        run("show", "nope")


def test_same_name_twice_asks_for_the_id(make_sandbox_account: MakeAccount) -> None:
    make_sandbox_account(name="Twin")
    make_sandbox_account(name="Twin")
    with pytest.raises(CommandError, match="several accounts are named"):
        run("show", "Twin")


def test_set_changes_knobs_of_every_type(make_sandbox_account: MakeAccount) -> None:
    account = make_sandbox_account(name="Initech")
    output = run(
        "set",
        "Initech",
        "error_rate=0.05",
        "plan=free",
        "legacy_scim_one_rps=true",
        "latency_mean_ms=250",
        "delete_user_mode=disassociate",
    )
    account.refresh_from_db()
    assert account.error_rate == 0.05
    assert account.plan == "free"
    assert account.legacy_scim_one_rps is True
    assert account.latency_mean_ms == 250
    assert account.delete_user_mode == "disassociate"
    assert "Initech: legacy_scim_one_rps = true" in output


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("error_rate=1.5", "error_rate: must be between 0.0 and 1.0"),
        ("timeout_rate=-0.1", "timeout_rate: must be between 0.0 and 1.0"),
        ("error_rate=lots", "error_rate"),
        ("plan=platinum", "plan"),
        ("sso_enabled=yes", "sso_enabled must be true or false"),
        ("latency_mean_ms=-5", "latency_mean_ms"),
        ("latency_mean_ms=2.5", "latency_mean_ms"),
        ("roles_groups_shape=list", "roles_groups_shape"),
        ("page_default_count=500", "page_default_count: must not exceed page_max_count"),
        ("deactivate_privileged_status=200", "deactivate_privileged_status: must be between 400 and 599"),
        ("colour=blue", "unknown knob 'colour'"),
        ("zoom_id=abc", "zoom_id is not a knob"),
        ("error_rate", "is not knob=value"),
    ],
)
def test_set_refuses_bad_values_and_changes_nothing(
    make_sandbox_account: MakeAccount, assignment: str, message: str
) -> None:
    account = make_sandbox_account(name="Initech")
    before = SandboxAccount.objects.filter(pk=account.pk).values().get()
    with pytest.raises(CommandError, match=message):
        # A good assignment next to the bad one must not be saved either.
        run("set", str(account.pk), "latency_mean_ms=900", assignment)
    assert SandboxAccount.objects.filter(pk=account.pk).values().get() == before


def test_create_makes_account_default_group_and_owner(db: None) -> None:
    output = run("create", "--name", "Initech", "--domain", "Initech.example.com", "--plan", "pro")
    account = SandboxAccount.objects.get(name="Initech")
    assert account.plan == "pro"
    assert account.vanity_domain == "initech.example.com"
    assert account.zoom_id in output
    owner = SandboxUser.objects.get(account=account)
    assert owner.user_name == "owner@initech.example.com"
    assert owner.role == Role.OWNER
    group = SandboxGroup.objects.get(account=account)
    assert group.is_default
    assert list(group.members.all()) == [owner]


def test_create_refuses_a_taken_owner_email_and_bad_domains(db: None) -> None:
    run("create", "--name", "Initech", "--domain", "initech.example.com")
    with pytest.raises(CommandError, match="already a sandbox user"):
        run("create", "--name", "Initech 2", "--domain", "INITECH.example.com")
    with pytest.raises(CommandError, match="is not a domain name"):
        run("create", "--name", "Bad", "--domain", "not a domain")
    assert SandboxAccount.objects.count() == 1
