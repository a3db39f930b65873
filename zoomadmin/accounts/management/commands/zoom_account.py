"""List the Zoom accounts zoomadmin knows, and correct an account's name or plan from a shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zoomadmin.accounts.connections import account_rename, account_set_plan
from zoomadmin.accounts.models import ZoomAccount, ZoomPlan


class Command(BaseCommand):
    help = "List Zoom accounts (`list`) or set an account's name and plan (`set ID --name … --plan …`)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every Zoom account with its plan and connected admins.")
        set_parser = sub.add_parser("set", help="Change an account's name or plan (shared by all its admins).")
        set_parser.add_argument(
            "zoom_account_id", help="The Zoom account id (one starting with - goes last, after --)."
        )
        set_parser.add_argument("--name", help="The name admins know the account by.")
        set_parser.add_argument(
            "--plan", choices=ZoomPlan.values, help="The Zoom plan, which picks the rate limits zoomadmin keeps to."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list()
            return
        try:
            account = ZoomAccount.objects.get(zoom_id=options["zoom_account_id"])
        except ZoomAccount.DoesNotExist as exc:
            raise CommandError(
                f"No Zoom account {options['zoom_account_id']!r} is known here; an admin of it must sign in first "
                "(`zoom_account list` shows the known ones)."
            ) from exc
        if options["name"] is None and options["plan"] is None:
            raise CommandError("Nothing to change: give --name and/or --plan.")
        if options["name"] is not None:
            name = options["name"].strip()
            if not name or len(name) > 200:
                raise CommandError("The account name must be 1 to 200 characters.")
            account_rename(account=account, name=name)
        if options["plan"] is not None:
            account_set_plan(account=account, plan=options["plan"])
        self.stdout.write(
            self.style.SUCCESS(f"{account.zoom_id}: name {account.name!r}, plan {account.get_plan_display()}.")
        )

    def _list(self) -> None:
        accounts = ZoomAccount.objects.order_by("name", "id").prefetch_related("connections")
        if not accounts:
            self.stdout.write("No Zoom account has signed in yet.")
            return
        for account in accounts:
            admins = ", ".join(connection.zoom_email for connection in account.connections.all()) or "none"
            self.stdout.write(
                f"{account.zoom_id:<24} {account.get_plan_display():<10} {account.name}  (admins: {admins})"
            )
