"""Register OAuth apps with the sandbox, as one would on Zoom's Marketplace.

manage.py sandbox_app create-s2s --account <zoom id|name> [--name N] [--scopes "scim2:admin user:read:admin"]
manage.py sandbox_app register-dashboard --redirect-uri URI [--client-id X --client-secret Y] [--scopes S]
manage.py sandbox_app list
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from zoomadmin.sandbox.management.commands.sandbox_account import account_lookup
from zoomadmin.sandbox.models import OAuthApp, SandboxAccount, zoom_id

DASHBOARD_APP_NAME = "zoomadmin dashboard"
S2S_DEFAULT_SCOPES = "scim2:admin user:read:admin"


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


def app_create_s2s(*, account: SandboxAccount, name: str, scopes: str) -> OAuthApp:
    """A new Server-to-Server app of `account`, with fresh credentials."""
    return OAuthApp.objects.create(
        name=name,
        kind=OAuthApp.Kind.S2S,
        client_id=zoom_id(),
        client_secret=_new_secret(),
        account=account,
        scopes=" ".join(scopes.split()),
    )


@transaction.atomic
def app_register_dashboard(
    *, redirect_uri: str, client_id: str | None, client_secret: str | None, scopes: str
) -> tuple[OAuthApp, bool]:
    """Create or update the user-level app the dashboard signs in with; returns it and whether it is new.

    Found by `client_id` when given, else by its name. The redirect URI joins the app's allow list
    (earlier ones stay registered), the scopes are set, and a given secret replaces the stored one.
    """
    lookup = OAuthApp.objects.select_for_update()
    app = lookup.filter(client_id=client_id).first() if client_id else None
    if app is None and not client_id:
        app = lookup.filter(name=DASHBOARD_APP_NAME, kind=OAuthApp.Kind.USER).order_by("id").first()
    created = app is None
    if app is None:
        app = OAuthApp(name=DASHBOARD_APP_NAME, kind=OAuthApp.Kind.USER, client_id=client_id or zoom_id())
        app.client_secret = client_secret or _new_secret()
    elif client_secret:
        app.client_secret = client_secret
    if app.kind != OAuthApp.Kind.USER:
        raise CommandError(f"client id {app.client_id} belongs to a Server-to-Server app")
    uris = app.redirect_uri_list()
    if redirect_uri not in uris:
        uris.append(redirect_uri)
    app.redirect_uris = "\n".join(uris)
    app.scopes = " ".join(scopes.split())
    app.active = True
    app.save()
    return app, created


class Command(BaseCommand):
    help = "Create Server-to-Server apps, register the dashboard's OAuth app, list the sandbox's apps."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        s2s = actions.add_parser("create-s2s", help="Create a Server-to-Server (account credentials) app.")
        s2s.add_argument(
            "--account",
            required=True,
            help="The sandbox account: its Zoom id or name (an id starting with - as --account=-…).",
        )
        s2s.add_argument("--name", default="Server-to-Server app")
        s2s.add_argument("--scopes", default=S2S_DEFAULT_SCOPES, help="Space-separated scopes.")
        dashboard = actions.add_parser(
            "register-dashboard", help="Create or update the user-level app the dashboard signs in with."
        )
        dashboard.add_argument("--redirect-uri", required=True, help="The dashboard's OAuth callback URL.")
        dashboard.add_argument("--client-id", help="Use this client id (default: reuse or generate).")
        dashboard.add_argument("--client-secret", help="Use this client secret (default: keep or generate).")
        dashboard.add_argument("--scopes", default=None, help="Space-separated scopes (default: ZOOM_OAUTH_SCOPES).")
        actions.add_parser("list", help="List the registered apps (secrets are not shown).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create-s2s":
            self._create_s2s(options)
        elif action == "register-dashboard":
            self._register_dashboard(options)
        else:
            self._list()

    def _create_s2s(self, options: dict[str, Any]) -> None:
        account = account_lookup(ref=options["account"])
        if not options["scopes"].split():
            raise CommandError("--scopes must name at least one scope")
        app = app_create_s2s(account=account, name=options["name"], scopes=options["scopes"])
        self.stdout.write(f"Created Server-to-Server app {app.name!r} for {account.name}.")
        self.stdout.write(f"client_id: {app.client_id}")
        self.stdout.write(f"client_secret: {app.client_secret}")
        self.stdout.write(f"account_id: {account.zoom_id}")

    def _register_dashboard(self, options: dict[str, Any]) -> None:
        redirect_uri = options["redirect_uri"].strip()
        parts = urlsplit(redirect_uri)
        if not parts.scheme or not parts.netloc or parts.fragment:
            raise CommandError("--redirect-uri must be an absolute URL without a #fragment")
        if options.get("client_secret") and not options.get("client_id"):
            raise CommandError("--client-secret needs --client-id")
        scopes = options.get("scopes") or settings.ZOOM_OAUTH_SCOPES
        app, created = app_register_dashboard(
            redirect_uri=redirect_uri,
            client_id=options.get("client_id"),
            client_secret=options.get("client_secret"),
            scopes=scopes,
        )
        self.stdout.write(f"{'Registered' if created else 'Updated'} the dashboard app {app.name!r}.")
        self.stdout.write(f"client_id: {app.client_id}")
        if options.get("client_secret"):
            self.stdout.write("client_secret: (as given)")
        elif created:
            # Generated here: this is the only time it can be shown.
            self.stdout.write(f"client_secret: {app.client_secret}")
        else:
            self.stdout.write("client_secret: (unchanged)")
        self.stdout.write(f"redirect_uris: {', '.join(app.redirect_uri_list())}")
        self.stdout.write(f"scopes: {app.scopes}")

    def _list(self) -> None:
        apps = OAuthApp.objects.select_related("account").order_by("name", "id")
        if not apps:
            self.stdout.write("No OAuth apps registered.")
        for app in apps:
            owner = f" account={app.account.zoom_id} ({app.account.name})" if app.account else ""
            state = "" if app.active else " [disabled]"
            self.stdout.write(f"{app.client_id}  {app.get_kind_display()}  {app.name!r}{owner}{state}")
            self.stdout.write(f"    scopes: {app.scopes}")
            for uri in app.redirect_uri_list():
                self.stdout.write(f"    redirect: {uri}")
