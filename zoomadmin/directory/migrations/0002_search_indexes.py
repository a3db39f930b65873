"""Indexes that keep the users list fast: trigram search (PostgreSQL) and the sorts' btrees (both databases).

Written as SQL, not as `Meta.indexes`, because the search index is built on an expression the
model does not declare: it must be exactly `zoomadmin.directory.search.SearchText()`, or the
planner will not use it (tests/directory/test_users_search.py checks the plan). SQLite (the demo)
gets the btree indexes only; its search scans the account's rows, which is fine at demo sizes.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# LOWER(email || ' ' || display_name || …) over search.SEARCH_FIELDS, in that order.
SEARCH_EXPRESSION = (
    "LOWER(email || ' ' || display_name || ' ' || given_name || ' ' || family_name"
    " || ' ' || department || ' ' || title || ' ' || employee_number)"
)
TABLE = "directory_directoryuser"

# (name, columns) of the btree indexes behind search.SORTS and the department/status filters.
BTREE = [
    ("directoryuser_sort_name", "account_id, LOWER(display_name), id"),
    ("directoryuser_sort_department", "account_id, LOWER(department), LOWER(display_name), id"),
    ("directoryuser_sort_title", "account_id, LOWER(title), LOWER(display_name), id"),
    ("directoryuser_status_name", "account_id, status, LOWER(display_name), id"),
    ("directoryuser_department_name", "account_id, department, LOWER(display_name), id"),
    ("directoryuser_modified", "account_id, zoom_modified_at, id"),
]


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, columns in BTREE:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({columns})")
    if schema_editor.connection.vendor == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS directoryuser_search_trgm ON {TABLE} "
            f"USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)"
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The extension stays: other apps' indexes use it too.
    for name, _ in [*BTREE, ("directoryuser_search_trgm", "")]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
