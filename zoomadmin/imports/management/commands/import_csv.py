"""`manage.py import_csv FILE --account <zoom account id>`: plan a CSV file and (unless --plan-only) start its job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from zoomadmin.accounts.models import ConnectionStatus, ZoomAccount, ZoomConnection
from zoomadmin.imports.csvfile import CsvRefused, size_check
from zoomadmin.imports.plan import PlanRefused, PlanSummary, import_plan, plan_summary
from zoomadmin.imports.services import JobRefused, job_start
from zoomadmin.imports.views import max_upload_bytes


class Command(BaseCommand):
    help = (
        "Plan a CSV file of user changes against the account's directory mirror; without --plan-only, "
        "store the plan and start its job acting as the admin given with --as."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (the upload page's format).")
        parser.add_argument(
            "--account", required=True, help="The Zoom account id (one starting with - as --account=-…)."
        )
        parser.add_argument("--plan-only", action="store_true", help="Only print the plan; store and send nothing.")
        parser.add_argument("--json", action="store_true", help="Print the plan as one JSON object.")
        parser.add_argument("--create-missing-groups", action="store_true", help="Create groups the file names.")
        parser.add_argument(
            "--as",
            dest="acting_as",
            default="",
            help="Email of the admin whose Zoom connection the job uses (required without --plan-only).",
        )
        parser.add_argument(
            "--confirm",
            type=int,
            default=None,
            help="The number of users deactivated or deleted, when the safeguard asks for it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        account = ZoomAccount.objects.filter(zoom_id=options["account"]).first()
        if account is None:
            raise CommandError(f"No Zoom account {options['account']} is connected to zoomadmin.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        if options["plan_only"]:
            self._plan_only(account, path, options)
            return
        connection = self._connection(account, options["acting_as"])
        try:
            size_check(path.stat().st_size, max_bytes=max_upload_bytes())
            with path.open("rb") as binary:
                change_set = import_plan(
                    account=account,
                    connection=connection,
                    binary=binary,
                    file_name=path.name,
                    create_missing_groups=options["create_missing_groups"],
                    keep_upload=False,
                )
        except (CsvRefused, PlanRefused) as exc:
            raise CommandError(exc.message) from None
        url = reverse("imports:detail", args=[account.zoom_id, change_set.pk])
        totals = ", ".join(f"{name} {count}" for name, count in sorted(change_set.totals.items()))
        self.stdout.write(f"Planned change set {change_set.pk}: {totals}.")
        try:
            job_start(change_set=change_set, connection=connection, typed_count=options["confirm"])
        except JobRefused as exc:
            raise CommandError(f"{exc.message} The plan is at {url}.") from None
        self.stdout.write(f"Started. Watch it at {url} (the job runs on the Celery workers).")

    def _plan_only(self, account: ZoomAccount, path: Path, options: dict[str, Any]) -> None:
        refused: str | None = None
        try:
            size_check(path.stat().st_size, max_bytes=max_upload_bytes())
            with path.open("rb") as binary:
                summary = plan_summary(
                    account=account, binary=binary, create_missing_groups=options["create_missing_groups"]
                )
        except (CsvRefused, PlanRefused) as exc:
            refused = exc.message
            summary = PlanSummary()
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_json(refused)))
            return
        if refused:
            raise CommandError(refused)
        self.stdout.write(f"{summary.valid} valid rows, {len(summary.invalid)} invalid.")
        for line, message in summary.invalid:
            self.stdout.write(f"  Line {line}: {message}")
        for column in summary.unknown_columns:
            self.stdout.write(f"  Column {column['letter']} ({column['name']}) not used: {column['reason']}")
        for name, count in sorted(summary.outcomes.items()):
            self.stdout.write(f"  {name}: {count}")

    def _connection(self, account: ZoomAccount, email: str) -> ZoomConnection:
        if not email:
            raise CommandError("Starting a job needs --as <admin email>: the job acts with that admin's Zoom sign-in.")
        connection = (
            ZoomConnection.objects.filter(account=account, zoom_email__iexact=email, status=ConnectionStatus.ACTIVE)
            .order_by("-last_checked_at")
            .first()
        )
        if connection is None:
            raise CommandError(
                f"{email} has no active zoomadmin connection to this account; they must sign in to zoomadmin first."
            )
        return connection
