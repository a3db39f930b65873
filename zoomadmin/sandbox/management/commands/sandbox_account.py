"""List, show, tune and create sandbox accounts from the command line.

manage.py sandbox_account list
manage.py sandbox_account show <id|zoom id|name>
manage.py sandbox_account set <id|zoom id|name> error_rate=0.05 plan=pro legacy_scim_one_rps=true
manage.py sandbox_account create --name "Initech" --domain initech.example.com [--plan pro]
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count

from zoomadmin.sandbox import ratelimit
from zoomadmin.sandbox.knobs import KnobError, knob_fields, knob_parse, knobs_check
from zoomadmin.sandbox.models import Plan, Role, SandboxAccount, SandboxGroup, SandboxUser
from zoomadmin.sandbox.seed import DEFAULT_GROUP_NAME

DOMAIN_RE = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def account_lookup(*, ref: str) -> SandboxAccount:
    """The account a person means by `ref`: its database id, its Zoom id, or its name (any case)."""
    ref = ref.strip()
    if ref.isdigit():
        found = SandboxAccount.objects.filter(pk=int(ref)).first()
        if found:
            return found
    found = SandboxAccount.objects.filter(zoom_id=ref).first()
    if found:
        return found
    by_name = list(SandboxAccount.objects.filter(name__iexact=ref)[:2])
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise CommandError(f"several accounts are named {ref!r}; use the id or Zoom id (see `sandbox_account list`)")
    raise CommandError(f"no sandbox account {ref!r} (see `sandbox_account list`)")


def account_knobs_set(*, account: SandboxAccount, assignments: list[str]) -> dict[str, object]:
    """Apply `knob=value` assignments to `account` after checking all of them; nothing is saved on error.

    Returns the changed knobs with their new values.
    """
    values: dict[str, object] = {}
    problems: list[str] = []
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        if not sep or not name.strip():
            problems.append(f"{assignment!r} is not knob=value")
            continue
        try:
            values[name.strip()] = knob_parse(name=name.strip(), raw=raw)
        except KnobError as exc:
            problems.append(str(exc))
    if problems:
        raise CommandError("nothing changed:\n  " + "\n  ".join(problems))
    for name, value in values.items():
        setattr(account, name, value)
    current = {field.name: getattr(account, field.name) for field in knob_fields()}
    cross = knobs_check(current)
    if cross:
        raise CommandError("nothing changed:\n  " + "\n  ".join(f"{name}: {error}" for name, error in cross.items()))
    try:
        account.full_clean()
    except ValidationError as exc:
        lines = [f"{name}: {'; '.join(messages)}" for name, messages in exc.message_dict.items()]
        raise CommandError("nothing changed:\n  " + "\n  ".join(lines)) from None
    account.save(update_fields=list(values))
    return values


@transaction.atomic
def account_create(*, name: str, domain: str, plan: str) -> SandboxAccount:
    """A new sandbox account with its default group and an Owner user `owner@<domain>`."""
    domain = domain.strip().lower()
    if not DOMAIN_RE.match(domain):
        raise CommandError(f"{domain!r} is not a domain name (like example.com)")
    if not name.strip():
        raise CommandError("the account needs a name")
    if plan not in Plan.values:
        raise CommandError(f"unknown plan {plan!r}; plans: {', '.join(Plan.values)}")
    owner_email = f"owner@{domain}"
    if SandboxUser.objects.filter(user_name__iexact=owner_email).exists():
        raise CommandError(f"{owner_email} is already a sandbox user; pick another domain")
    account = SandboxAccount.objects.create(name=name.strip(), vanity_domain=domain, plan=plan)
    owner = SandboxUser.objects.create(
        account=account,
        user_name=owner_email,
        given_name="Account",
        family_name="Owner",
        display_name="Account Owner",
        role=Role.OWNER,
        user_type="Licensed" if plan != Plan.FREE else "Basic",
    )
    group = SandboxGroup.objects.create(
        account=account, display_name=DEFAULT_GROUP_NAME, email_alias=f"everyone@{domain}", is_default=True
    )
    group.members.add(owner)
    return account


class Command(BaseCommand):
    help = "List, show, change the knobs of, or create sandbox accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every sandbox account with its plan and main knobs.")
        show = sub.add_parser("show", help="All knobs of one account, and today's daily rate-limit usage.")
        show.add_argument("account", help="id, Zoom id or name (a Zoom id starting with - goes after --)")
        change = sub.add_parser("set", help="Change knobs: knob=value ... (all checked before any is saved).")
        change.add_argument("account", help="id, Zoom id or name (a Zoom id starting with - goes after --)")
        change.add_argument("assignments", nargs="+", metavar="knob=value")
        create = sub.add_parser("create", help="A new account with its default group and an Owner.")
        create.add_argument("--name", required=True)
        create.add_argument("--domain", required=True, help="Email domain of its users.")
        create.add_argument("--plan", default=Plan.BUSINESS, choices=Plan.values)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
        elif action == "show":
            self._show(account_lookup(ref=options["account"]))
        elif action == "set":
            account = account_lookup(ref=options["account"])
            changed = account_knobs_set(account=account, assignments=options["assignments"])
            for name, value in changed.items():
                self.stdout.write(f"{account.name}: {name} = {_text(value)}")
        else:
            account = account_create(name=options["name"], domain=options["domain"], plan=options["plan"])
            self.stdout.write(
                f"Created {account.name} (id {account.pk}, Zoom id {account.zoom_id}, plan {account.plan}); "
                f"owner owner@{account.vanity_domain}"
            )

    def _list(self) -> None:
        accounts = SandboxAccount.objects.annotate(user_count=Count("users")).order_by("name", "pk")
        self.stdout.write(
            f"{'id':>4}  {'zoom id':<24} {'plan':<9} {'users':>6}  {'limits':<6} {'errors':>6} {'timeouts':>8}  name"
        )
        for account in accounts:
            self.stdout.write(
                f"{account.pk:>4}  {account.zoom_id:<24} {account.plan:<9} {account.user_count:>6}  "
                f"{'on' if account.rate_limits_enabled else 'off':<6} {account.error_rate:>6.2f} "
                f"{account.timeout_rate:>8.2f}  {account.name}"
            )

    def _show(self, account: SandboxAccount) -> None:
        self.stdout.write(f"{account.name}  (id {account.pk}, Zoom id {account.zoom_id})")
        self.stdout.write(f"  users: {account.users.count()}, groups: {account.groups.count()}")
        for field in knob_fields():
            self.stdout.write(f"  {field.name} = {_text(getattr(account, field.name))}")
        if account.rate_limits_enabled:
            for counter, (used, cap) in ratelimit.daily_usage(account).items():
                self.stdout.write(f"  today {counter}: {used} of {cap} requests")


def _text(value: object) -> str:
    """A knob value written the way `set` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
