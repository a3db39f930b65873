"""Seed one realistic, deterministic sandbox account (see `zoomadmin.sandbox.seed`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zoomadmin.sandbox.models import Plan
from zoomadmin.sandbox.seed import SeedError, account_seed


class Command(BaseCommand):
    help = (
        "Create one sandbox account with N users and M groups: an owner, admins, members across departments "
        "with managers, licenses, deactivated and pending users. The same --seed gives the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, required=True, help="How many users, the owner included.")
        parser.add_argument("--groups", type=int, required=True, help="How many groups, the default group included.")
        parser.add_argument("--account-name", default="Acme Corp", help="The account to create or fill.")
        parser.add_argument(
            "--domain",
            default=None,
            help="Email domain (default: the account's, else from its name: acme.example.com).",
        )
        parser.add_argument("--plan", choices=Plan.values, default=None, help="Zoom plan (default: business).")
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Leave the account alone if it already has users (no error)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = account_seed(
                users=options["users"],
                groups=options["groups"],
                account_name=options["account_name"],
                domain=options["domain"],
                plan=options["plan"],
                seed=options["seed"],
                if_empty=options["if_empty"],
            )
        except SeedError as error:
            raise CommandError(str(error)) from error
        account = result.account
        if not result.created:
            self.stdout.write(f"Sandbox account {account.name!r} already has users; left as it is.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Seeded sandbox account {account.name!r}."))
        counts = ", ".join(f"{count} {status}" for status, count in result.status_counts.items())
        admins = result.admin_emails
        shown = ", ".join(admins[:3]) + (f" (+{len(admins) - 3} more)" if len(admins) > 3 else "")
        self.stdout.write(
            f"  account id:  {account.zoom_id}\n"
            f"  domain:      {account.vanity_domain} (plan {account.plan})\n"
            f"  owner:       {result.owner_email}\n"
            f"  admins:      {shown}\n"
            f"  users:       {result.users} ({counts})\n"
            f"  groups:      {result.groups} ({result.memberships} memberships)\n"
            f"  seconds:     {result.seconds:.2f}"
        )
