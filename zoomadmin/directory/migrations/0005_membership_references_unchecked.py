"""Memberships' group and user are no longer checked by PostgreSQL (the account was not, since 0004).

Measured on the 173,000 memberships of a first sync of 50,000 users (docs/benchmarks.md, directory
sync): the two deferred foreign-key checks cost PostgreSQL as much as inserting the rows and their
indexes. Django deletes memberships with their group or user (DirectoryMembership says how the rows
stay consistent).
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0004_lean_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='directorymembership',
            name='group',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='directory.directorygroup'),
        ),
        migrations.AlterField(
            model_name='directorymembership',
            name='user',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='directory.directoryuser'),
        ),
    ]
