"""Fewer writes per synced row, one more index for the role filter.

A first sync of 50,000 users writes 50,000 user rows and 173,000 memberships (bench/directory_sync.py):
the indexes that another index already covers go (the users' account index; the memberships' group
and user indexes, covered by (group, user) and (user, group)), and the membership's account is not
checked again by the database (its group and user are). The role filter gets the index the status
filter has (docs/benchmarks.md, users list search).
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "directory_directoryuser"


def role_index_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The role filter with the name order (like directoryuser_status_name of 0002): Admins are a
    # handful among thousands, found through this index instead of through every search candidate.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS directoryuser_role_name ON {TABLE} (account_id, role, LOWER(display_name), id)"
    )


def role_index_drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute("DROP INDEX IF EXISTS directoryuser_role_name")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_zoomaccount"),
        ("directory", "0003_search_column"),
    ]

    operations = [
        migrations.RunPython(role_index_create, role_index_drop, elidable=False),
        migrations.AlterField(
            model_name="directorymembership",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="directory_memberships",
                to="accounts.zoomaccount",
            ),
        ),
        migrations.AlterField(
            model_name="directorymembership",
            name="group",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="directory.directorygroup",
            ),
        ),
        migrations.AlterField(
            model_name="directorymembership",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="directory.directoryuser",
            ),
        ),
        migrations.AlterField(
            model_name="directoryuser",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="directory_users",
                to="accounts.zoomaccount",
            ),
        ),
    ]
