"""Zoom accounts become rows of their own: connections point to them; name and plan move there."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def accounts_from_connections(apps, schema_editor):
    ZoomAccount = apps.get_model("accounts", "ZoomAccount")
    ZoomConnection = apps.get_model("accounts", "ZoomConnection")
    for connection in ZoomConnection.objects.order_by("id"):
        account, _ = ZoomAccount.objects.get_or_create(
            zoom_id=connection.zoom_account_id,
            defaults={"name": connection.zoom_account_name, "plan": connection.plan},
        )
        connection.account = account
        connection.save(update_fields=["account"])


def connections_from_accounts(apps, schema_editor):
    ZoomConnection = apps.get_model("accounts", "ZoomConnection")
    for connection in ZoomConnection.objects.select_related("account"):
        connection.zoom_account_id = connection.account.zoom_id
        connection.zoom_account_name = connection.account.name
        connection.plan = connection.account.plan
        connection.save(update_fields=["zoom_account_id", "zoom_account_name", "plan"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ZoomAccount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("zoom_id", models.CharField(max_length=64, unique=True)),
                ("name", models.CharField(max_length=200)),
                (
                    "plan",
                    models.CharField(
                        choices=[("free", "Free"), ("pro", "Pro"), ("business", "Business+")],
                        default="business",
                        max_length=16,
                    ),
                ),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated", models.DateTimeField(auto_now=True)),
                ("last_synced_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"ordering": ["name", "id"]},
        ),
        migrations.AddField(
            model_name="zoomconnection",
            name="account",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="connections",
                to="accounts.zoomaccount",
            ),
        ),
        migrations.RunPython(accounts_from_connections, connections_from_accounts),
        migrations.RemoveConstraint(model_name="zoomconnection", name="zoomconnection_user_account_unique"),
        migrations.RemoveConstraint(model_name="zoomconnection", name="zoomconnection_zoom_identity_unique"),
        migrations.AlterModelOptions(name="zoomconnection", options={"ordering": ["account__name", "id"]}),
        migrations.RemoveField(model_name="zoomconnection", name="zoom_account_id"),
        migrations.RemoveField(model_name="zoomconnection", name="zoom_account_name"),
        migrations.RemoveField(model_name="zoomconnection", name="plan"),
        migrations.AlterField(
            model_name="zoomconnection",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="connections",
                to="accounts.zoomaccount",
            ),
        ),
        migrations.AddField(
            model_name="zoomconnection",
            name="last_checked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="zoomconnection",
            name="last_check_error",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddConstraint(
            model_name="zoomconnection",
            constraint=models.UniqueConstraint(fields=("user", "account"), name="zoomconnection_user_account_unique"),
        ),
        migrations.AddConstraint(
            model_name="zoomconnection",
            constraint=models.UniqueConstraint(
                fields=("account", "zoom_user_id"), name="zoomconnection_zoom_identity_unique"
            ),
        ),
    ]
