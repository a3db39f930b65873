"""The audit log: what was changed in Zoom through the dashboard, by whom, and what Zoom answered.

An `AuditEvent` is written for every change attempt (DESIGN invariant 5), successful or not. The
trail has no retention limit and must outlive whatever it describes, so:

- the account is a `PROTECT` foreign key (Zoom accounts are never deleted by the dashboard; if
  someone tries in the Django admin, the trail stops them), and the account's Zoom id is kept as a
  string too, so an export reads the same without joins;
- the dashboard person is a `SET_NULL` foreign key plus their username, and the Zoom identity they
  acted as is copied from the connection (`zoom_user_id`, `zoom_email`): connections are deleted
  when an admin disconnects, and the event must still say who it was;
- the target is described by its Zoom id and the label it had at the time (an email or a group
  name), never by a foreign key to the mirror, whose rows come and go with Zoom;
- the bulk job is a plain `job_id` integer, not a foreign key: the job engine (`zoomadmin.imports`)
  is a separate app whose tables should not be tied to this one by a migration dependency, and a
  job's events must survive the job's own cleanup.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from zoomadmin.accounts.models import ZoomAccount


class AuditAction(models.TextChoices):
    """What was changed. Values are stable strings (stored, exported, filtered on): only add to them."""

    USER_CREATE = "user.create", "Create user"
    USER_UPDATE = "user.update", "Update user"
    USER_DEACTIVATE = "user.deactivate", "Deactivate user"
    USER_REACTIVATE = "user.reactivate", "Reactivate user"
    USER_DELETE = "user.delete", "Delete user"
    GROUP_CREATE = "group.create", "Create group"
    GROUP_RENAME = "group.rename", "Rename group"
    GROUP_DELETE = "group.delete", "Delete group"
    GROUP_ADD_MEMBERS = "group.add_members", "Add group members"
    GROUP_REMOVE_MEMBERS = "group.remove_members", "Remove group members"
    ACCOUNT_SETTINGS = "account.settings", "Change account settings"


class AuditTarget(models.TextChoices):
    USER = "user", "User"
    GROUP = "group", "Group"
    ACCOUNT = "account", "Account"


class AuditResult(models.TextChoices):
    SUCCESS = "success", "Succeeded"
    FAILURE = "failure", "Failed"
    # Zoom may or may not have applied the change (OutcomeUnknown): someone must look before retrying.
    UNKNOWN = "unknown", "Outcome unknown"


class AuditSource(models.TextChoices):
    PAGE = "page", "Dashboard page"
    JOB = "job", "Bulk job"
    SYSTEM = "system", "zoomadmin itself"


class AuditEvent(models.Model):
    """One change attempt against Zoom: who, which account, what, before → after, and Zoom's answer."""

    account = models.ForeignKey(ZoomAccount, on_delete=models.PROTECT, related_name="audit_events")
    # The account's Zoom id at the time, so exports and forensic queries need no join.
    account_zoom_id = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # Who: the dashboard person (None once they are deleted, or for system work) and their name then.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    person_name = models.CharField(max_length=254, blank=True)
    # …and the Zoom user whose connection made the call (empty when no connection was used).
    zoom_user_id = models.CharField(max_length=64, blank=True)
    zoom_email = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=16, choices=AuditSource.choices, default=AuditSource.PAGE)
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    target_type = models.CharField(max_length=16, choices=AuditTarget.choices)
    target_zoom_id = models.CharField(max_length=128, blank=True)
    # The target's email or group name at the time of the change (Zoom names change; the trail must not).
    target_label = models.CharField(max_length=500, blank=True)
    # {field: [before, after]} for the changed fields only; for membership changes, lists of members.
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    result = models.CharField(max_length=16, choices=AuditResult.choices)
    # Zoom's HTTP status and its sentence for the admin when the change failed (or its outcome is unknown).
    zoom_status = models.PositiveSmallIntegerField(null=True, blank=True)
    zoom_message = models.TextField(blank=True)
    # The bulk job (zoomadmin.imports) and its row this change belongs to; plain ids, see the module docstring.
    job_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    job_row = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created", "-id"]
        indexes: ClassVar = [
            # The log page: one account's events newest first, optionally of one action or target.
            models.Index(fields=["account", "-created", "-id"], name="audit_account_created"),
            models.Index(fields=["account", "target_type", "target_zoom_id"], name="audit_account_target"),
            # The person filter, and the skip scan that lists the people (services.audit_people).
            models.Index(fields=["account", "zoom_user_id", "-created"], name="audit_account_person"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} {self.target_label or self.target_zoom_id} [{self.result}] at {self.created:%Y-%m-%d %H:%M}"
        )

    @property
    def who(self) -> str:
        """Who made the change, in words: the admin's name and Zoom email, or zoomadmin itself."""
        if not self.zoom_email:
            return self.person_name or "zoomadmin"
        if self.person_name and self.person_name != self.zoom_email:
            return f"{self.person_name} ({self.zoom_email})"
        return self.zoom_email

    def change_list(self) -> list[tuple[str, str, str]]:
        """The changed fields as (field, before, after) texts, for pages and exports ("" means empty)."""
        rows = []
        for name, pair in (self.changes or {}).items():
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            rows.append((str(name), value_text(before), value_text(after)))
        return rows


def value_text(value: Any) -> str:
    """A stored before/after value as text: lists joined with commas, empty as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
