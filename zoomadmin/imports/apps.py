from __future__ import annotations

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "zoomadmin.imports"
    verbose_name = "Bulk changes"
