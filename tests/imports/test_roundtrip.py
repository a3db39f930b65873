"""Export → import round-trip: the users list's CSV, uploaded as it is, plans no changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.imports import plan_fixtures
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.directory.models import DirectoryUser
from zoomadmin.directory.sync import sync_execute, sync_request
from zoomadmin.imports.models import ChangeSet, Outcome
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser

pytestmark = pytest.mark.django_db(transaction=True)

connection = plan_fixtures.connection
admin = plan_fixtures.admin


def test_an_exported_file_imports_back_unchanged(
    admin: Client,
    connection: ZoomConnection,
    account_a: SandboxAccount,
    make_sandbox_user: Callable[..., SandboxUser],
) -> None:
    # Values a spreadsheet would read as formulas: the export neutralises them with an apostrophe.
    tricky = make_sandbox_user(
        account_a,
        user_name="tricky@acme.example.com",
        given_name="=cmd",
        family_name="-Minus",
        department="@Ops",
        employee_number="+0042",
        user_type="Licensed",
    )
    support = SandboxGroup.objects.create(account=account_a, display_name="Support; Tier 2")
    engineering = SandboxGroup.objects.get(account=account_a, display_name="Sales")
    support.members.add(tricky)
    engineering.members.add(tricky)
    sync_execute(run_id=sync_request(account=connection.account).pk)

    exported = admin.get(f"/a/{connection.account.zoom_id}/users/export.csv")
    data = b"".join(exported.streaming_content)  # type: ignore[attr-defined]
    assert b"'=cmd" in data
    assert b"'@Ops" in data

    answer = admin.post(
        f"/a/{connection.account.zoom_id}/imports/new", {"file": SimpleUploadedFile("users.csv", data, "text/csv")}
    )
    assert answer.status_code == 302
    change_set = ChangeSet.objects.get()
    users = DirectoryUser.objects.filter(account=connection.account).count()
    assert change_set.totals == {Outcome.UNCHANGED: users}, list(
        change_set.rows.exclude(planned=Outcome.UNCHANGED).values_list("line", "email", "planned_reason")
    )
    assert change_set.unknown_columns == []
