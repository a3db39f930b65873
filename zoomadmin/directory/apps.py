from __future__ import annotations

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "zoomadmin.directory"
    verbose_name = "Directory (mirror of Zoom users and groups)"
