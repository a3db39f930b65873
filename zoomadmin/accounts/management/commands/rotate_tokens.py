"""Re-encrypt every stored Zoom token with the newest FIELD_ENCRYPTION_KEY (see docs/signin.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zoomadmin.accounts.tokens import connections_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt all Zoom tokens under the first key of FIELD_ENCRYPTION_KEY, so older keys can be removed."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = connections_reencrypt()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the tokens of {count} Zoom connection(s)."))
