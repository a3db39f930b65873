"""The person filter's index, and trigram indexes for the target search on PostgreSQL.

The target filter is a case-insensitive substring (`icontains`, which PostgreSQL runs as
`UPPER(col::text) LIKE UPPER('%…%')`): only a trigram GIN index on that same expression serves it.
pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner may create it. SQLite (the
demo) has no such index and scans, which is fine at demo sizes.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TRIGRAM_INDEXES = {
    "audit_target_label_trgm": "target_label",
    "audit_target_zoom_id_trgm": "target_zoom_id",
}


def trigram_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON audit_auditevent USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def trigram_drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["account", "zoom_user_id", "-created"], name="audit_account_person"),
        ),
        migrations.RunPython(trigram_create, trigram_drop, elidable=False),
    ]
