"""Dashboard admins and their connections to Zoom accounts."""

from __future__ import annotations
