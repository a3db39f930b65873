"""Prepare the sandbox for the demo: seed accounts once, register the dashboard app, write demo.env."""

from __future__ import annotations

import secrets
import shlex
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from zoomadmin.sandbox.models import Role, SandboxAccount, UserStatus

PRIMARY = {"name": "Acme Corp", "domain": "acme.example.com", "users": 2000, "groups": 40, "seed": 42}
SECOND = {"name": "Globex Consulting", "domain": "globex.example.com", "users": 150, "groups": 8, "seed": 7}
ADMIN_USER = "sandbox-admin"


class Command(BaseCommand):
    help = "Seed the demo's sandbox accounts if empty, register the dashboard as an OAuth app, write an env file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--redirect-uri", required=True, help="The dashboard's OAuth callback URL.")
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--env-file", required=True, help="Where to write the demo's environment.")

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in (PRIMARY, SECOND):
            call_command(
                "sandbox_seed",
                users=spec["users"],
                groups=spec["groups"],
                account_name=spec["name"],
                domain=spec["domain"],
                seed=spec["seed"],
                if_empty=True,
                stdout=self.stdout,
            )
        call_command(
            "sandbox_app",
            "register-dashboard",
            redirect_uri=options["redirect_uri"],
            client_id=options["client_id"],
            client_secret=options["client_secret"],
            stdout=self.stdout,
        )
        primary = SandboxAccount.objects.get(name=PRIMARY["name"])
        second = SandboxAccount.objects.get(name=SECOND["name"])
        owner = primary.users.get(role=Role.OWNER)
        admins = list(primary.users.filter(role=Role.ADMIN, status=UserStatus.ACTIVE).order_by("id")[:1])
        second_admin = second.users.filter(role__in=[Role.OWNER, Role.ADMIN]).order_by("id").first()
        signin = f"{owner.user_name} (Owner of {primary.name})"
        if admins:
            signin += f" or {admins[0].user_name} (Admin)"
        second_hint = f"{second.name}: sign in as {second_admin.user_name}" if second_admin else second.name
        password = self._sandbox_admin_password()
        env = {
            "ZOOMADMIN_ALLOWED_ACCOUNTS": f"{primary.zoom_id},{second.zoom_id}",
            "DEMO_SIGNIN_HINT": signin,
            "DEMO_SECOND_ACCOUNT_HINT": second_hint,
            "DEMO_ADMIN_USER": ADMIN_USER,
        }
        path = Path(options["env_file"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key}={shlex.quote(value)}\n" for key, value in env.items()), encoding="utf-8")
        self.stdout.write(f"Demo environment written to {path} ({len(password)}-character admin password kept).")

    def _sandbox_admin_password(self) -> str:
        """A superuser for the sandbox's knobs in the Django admin; its password lives in VAR_DIR."""
        path = Path(settings.VAR_DIR) / "sandbox_admin_password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12), encoding="utf-8")
            path.chmod(0o600)
        password = path.read_text(encoding="utf-8").strip()
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=ADMIN_USER, defaults={"is_staff": True})
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        return password
