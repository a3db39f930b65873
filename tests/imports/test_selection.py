"""Bulk actions from the users list's selection: confirm, plan, start, and the rows done in the sandbox."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.imports import plan_fixtures
from tests.imports.support import run_to_end
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser
from zoomadmin.imports.models import ChangeSet, JobStatus, Outcome, RowState, Source
from zoomadmin.imports.plan import PlanRefused
from zoomadmin.imports.selection import changeset_from_selection
from zoomadmin.imports.services import JobRefused, job_start
from zoomadmin.sandbox.models import SandboxGroup, SandboxUser, UserStatus

pytestmark = pytest.mark.django_db(transaction=True)

connection = plan_fixtures.connection
admin = plan_fixtures.admin


def _ids(connection: ZoomConnection, *emails: str) -> list[str]:
    users = DirectoryUser.objects.filter(account=connection.account, email__in=emails)
    return list(users.values_list("zoom_id", flat=True))


def test_the_users_list_offers_bulk_actions(admin: Client, connection: ZoomConnection) -> None:
    page = admin.get(f"/a/{connection.account.zoom_id}/users/").content.decode()
    selection_url = f"/a/{connection.account.zoom_id}/imports/selection"
    assert f'formaction="{selection_url}" name="action" value="deactivate"' in page
    assert f'formaction="{selection_url}" name="action" value="delete"' in page
    assert f'href="{selection_url}?scope=all"' in page


def test_deactivate_ticked_users_through_the_pages(admin: Client, connection: ZoomConnection) -> None:
    base = f"/a/{connection.account.zoom_id}/imports/selection"
    ids = _ids(connection, "member@acme.example.com", "member2@acme.example.com", "owner@acme.example.com")
    # The list's "Deactivate selected" button: a GET that only confirms.
    confirm = admin.get(base, {"action": "deactivate", "id": ids, "q": ""})
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Change 3 users" in page
    assert "member2@acme.example.com" in page
    assert not ChangeSet.objects.exists()

    answer = admin.post(base, {"action": "deactivate", "id": ids, "q": ""})
    change_set = ChangeSet.objects.get()
    assert answer["Location"] == f"/a/{connection.account.zoom_id}/imports/{change_set.pk}/"
    assert change_set.source == Source.SELECTION
    assert change_set.title == "Deactivate 3 users"
    assert change_set.totals == {Outcome.DEACTIVATE: 2, Outcome.BLOCKED: 1}
    assert "Owner role" in change_set.rows.get(email="owner@acme.example.com").planned_reason
    # Two of the account's few active users: more than the safeguard's share, so the number must be typed.
    assert change_set.safeguard_required
    detail = admin.get(answer["Location"]).content.decode()
    assert "Type 2 to confirm" in detail
    admin.post(f"{answer['Location']}start", {"typed_count": "3"})
    change_set.refresh_from_db()
    assert change_set.status == JobStatus.PLANNED
    admin.post(f"{answer['Location']}start", {"typed_count": "2"})
    change_set.refresh_from_db()
    assert change_set.status == JobStatus.RUNNING

    change_set = run_to_end(change_set)
    assert change_set.status == JobStatus.FINISHED
    assert change_set.rows.filter(state=RowState.DONE, result=Outcome.DEACTIVATE).count() == 2
    assert set(
        SandboxUser.objects.filter(user_name__in=["member@acme.example.com", "member2@acme.example.com"]).values_list(
            "status", flat=True
        )
    ) == {UserStatus.INACTIVE}
    assert SandboxUser.objects.get(user_name="owner@acme.example.com").status == UserStatus.ACTIVE


def test_selected_buttons_with_nothing_ticked_change_nobody(admin: Client, connection: ZoomConnection) -> None:
    base = f"/a/{connection.account.zoom_id}/imports/selection"
    page = admin.get(base, {"action": "delete"}).content.decode()
    assert "No users are selected" in page
    answer = admin.post(base, {"action": "delete"})
    assert answer.status_code == 422
    assert not ChangeSet.objects.exists()


def test_add_everyone_matching_a_filter_to_a_group(
    admin: Client, connection: ZoomConnection, make_sandbox_user: object
) -> None:
    sales = DirectoryGroup.objects.get(account=connection.account, display_name="Sales")
    base = f"/a/{connection.account.zoom_id}/imports/selection"
    # Everyone whose department is Support: keep@ (already in Sales) only.
    answer = admin.post(
        base, {"scope": "all", "department": "Support", "action": "add_to_group", "target_group": sales.zoom_id}
    )
    change_set = ChangeSet.objects.get()
    assert answer.status_code == 302
    assert change_set.totals == {Outcome.UNCHANGED: 1}
    assert change_set.title == "Add 1 user to Sales"

    everyone = admin.post(base, {"scope": "all", "action": "add_to_group", "target_group": sales.zoom_id})
    plan = ChangeSet.objects.exclude(pk=change_set.pk).get()
    assert everyone.status_code == 302
    in_sales = DirectoryUser.objects.filter(account=connection.account, memberships__group=sales).count()
    total = DirectoryUser.objects.filter(account=connection.account).count()
    assert plan.totals == {Outcome.UPDATE: total - in_sales, Outcome.UNCHANGED: in_sales}
    admin.post(f"/a/{connection.account.zoom_id}/imports/{plan.pk}/start")
    plan = run_to_end(ChangeSet.objects.get(pk=plan.pk))
    assert plan.status == JobStatus.FINISHED
    group = SandboxGroup.objects.get(display_name="Sales")
    assert group.members.count() == total


def test_the_service_refuses_without_a_group_or_users(connection: ZoomConnection) -> None:
    with pytest.raises(PlanRefused, match="Choose the group"):
        changeset_from_selection(
            account=connection.account, connection=connection, action="add_to_group", zoom_user_ids=["x"]
        )
    with pytest.raises(PlanRefused, match="No users are selected"):
        changeset_from_selection(
            account=connection.account, connection=connection, action="deactivate", zoom_user_ids=["nobody"]
        )
    delete = changeset_from_selection(
        account=connection.account,
        connection=connection,
        action="delete",
        zoom_user_ids=_ids(connection, "admin@acme.example.com", "leaver@acme.example.com"),
    )
    assert delete.totals == {Outcome.BLOCKED: 1, Outcome.DELETE: 1}
    # One user of several is under the safeguard's share, but a delete always asks for the number.
    assert delete.safeguard_required
    with pytest.raises(JobRefused, match="Type 1 to confirm"):
        job_start(change_set=delete, connection=connection)
    job_start(change_set=delete, connection=connection, typed_count=1)
    delete = run_to_end(delete)
    assert delete.rows.get(result=Outcome.DELETE).state == RowState.DONE
    assert not SandboxUser.objects.filter(user_name="leaver@acme.example.com").exists()
