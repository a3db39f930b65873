"""Searching 250,000 users fast on PostgreSQL: a stored search column with a trigram index, and prefix indexes.

Measured with bench/directory_search.py (docs/benchmarks.md), the first index (0002, a trigram
index on the `LOWER(a || ' ' || b …)` expression) was not enough:

- evaluating that expression costs about 3 µs per row (LOWER on UTF-8 text and seven
  concatenations), and PostgreSQL rechecks every candidate of a trigram index (and every row of a
  scan) with it; a *stored generated column* holds the lowercased text once, written by
  PostgreSQL itself on every insert and update, so a recheck is a plain LIKE (about 0.5 µs);
- the planner prices any LIKE like a cheap operator and preferred walking the account's rows
  through a btree; searches therefore compare the account in a form those btrees cannot serve
  (`search.users_matching`), and these indexes, without the account, find the candidates.

The column is PostgreSQL's alone: the model does not declare it (Django never writes it, the
database computes it) and `search.SearchText` reads it on PostgreSQL, the same expression elsewhere.
Words of one or two letters cannot use trigrams: they match the start of a first name, last name,
display name or email instead (`search.users_search_filter`), through the prefix indexes below.
SQLite (the demo) gets none of this and scans, which is fine at demo sizes.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "directory_directoryuser"
# Must stay the expression of search.SearchText (SEARCH_FIELDS, in order).
SEARCH_EXPRESSION = (
    "LOWER(email || ' ' || display_name || ' ' || given_name || ' ' || family_name"
    " || ' ' || department || ' ' || title || ' ' || employee_number)"
)
PREFIX_INDEXES = {
    "directoryuser_prefix_given": "LOWER(given_name) text_pattern_ops",
    "directoryuser_prefix_family": "LOWER(family_name) text_pattern_ops",
    "directoryuser_prefix_display": "LOWER(display_name) text_pattern_ops",
    "directoryuser_prefix_email": "email text_pattern_ops",
}


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # A trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS search_text text GENERATED ALWAYS AS ({SEARCH_EXPRESSION}) STORED"
    )
    schema_editor.execute("DROP INDEX IF EXISTS directoryuser_search_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS directoryuser_search ON {TABLE} USING gin (search_text gin_trgm_ops)"
    )
    for name, columns in PREFIX_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({columns})")


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [*PREFIX_INDEXES, "directoryuser_search"]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_text")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS directoryuser_search_trgm ON {TABLE} "
        f"USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0002_search_indexes"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
