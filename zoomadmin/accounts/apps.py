from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zoomadmin.accounts"
    verbose_name = "Admins and Zoom connections"
