"""`manage.py import_csv`: the plan as one JSON object, refusals, and starting the job as an admin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.imports import plan_fixtures
from tests.imports.support import run_to_end
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.imports.models import ChangeSet, JobStatus, Outcome
from zoomadmin.sandbox.models import SandboxUser

pytestmark = pytest.mark.django_db(transaction=True)

connection = plan_fixtures.connection
CORPUS = plan_fixtures.CORPUS
ONCE = "a user can appear only once in a file."


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_csv", *args, stdout=out)
    return out.getvalue()


def test_plan_only_json_is_exactly_one_object(connection: ZoomConnection) -> None:
    out = _run(str(CORPUS / "every_outcome.csv"), f"--account={connection.account.zoom_id}", "--plan-only", "--json")

    assert out.count("\n") == 1
    assert json.loads(out) == {
        "refused": None,
        "valid": 13,
        "invalid": [
            {
                "line": 11,
                "message": "invited@acme.example.com is already on line 10; a user can appear only once in a file.",
            },
            {"line": 15, "message": 'The email "not-an-email" is not a valid email address.'},
            {
                "line": 16,
                "message": "keep@acme.example.com is already on line 4; a user can appear only once in a file.",
            },
            {
                "line": 17,
                "message": "member@acme.example.com is already on line 3; a user can appear only once in a file.",
            },
        ],
        "unknown_columns": [],
        "outcomes": {
            "create": 1,
            "update": 1,
            "unchanged": 2,
            "reactivate": 1,
            "deactivate": 1,
            "delete": 1,
            "blocked": 3,
            "error": 7,
        },
    }
    # Nothing stored, nothing sent.
    assert not ChangeSet.objects.exists()


def test_plan_only_json_reports_a_refused_file(connection: ZoomConnection, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_bytes(b"Name,Favourite colour\nA,blue\n")
    out = _run(str(path), f"--account={connection.account.zoom_id}", "--plan-only", "--json")
    answer = json.loads(out)
    assert answer["refused"].startswith("The file has no email column")
    assert answer == {"refused": answer["refused"], "valid": 0, "invalid": [], "unknown_columns": [], "outcomes": {}}


def test_unknown_columns_are_listed(connection: ZoomConnection, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_bytes(b"Email,Shoe size\nmember@acme.example.com,44\n")
    answer = json.loads(_run(str(path), f"--account={connection.account.zoom_id}", "--plan-only", "--json"))
    assert answer["unknown_columns"] == ["Shoe size"]
    assert answer["outcomes"] == {Outcome.UNCHANGED: 1}


def test_starting_needs_an_admin_and_then_runs(
    connection: ZoomConnection, admin_a: SandboxUser, tmp_path: Path
) -> None:
    path = tmp_path / "new.csv"
    path.write_bytes(b"Email,First Name,Last Name\nfresh@acme.example.com,Fresh,Face\n")
    with pytest.raises(CommandError, match="needs --as"):
        _run(str(path), f"--account={connection.account.zoom_id}")
    with pytest.raises(CommandError, match="no active zoomadmin connection"):
        _run(str(path), f"--account={connection.account.zoom_id}", "--as", "someone@else.example.com")

    out = _run(str(path), f"--account={connection.account.zoom_id}", "--as", admin_a.user_name.upper())
    change_set = ChangeSet.objects.get()
    assert f"/a/{connection.account.zoom_id}/imports/{change_set.pk}/" in out
    assert change_set.status == JobStatus.RUNNING
    assert change_set.created_by == connection
    change_set = run_to_end(change_set)
    assert change_set.status == JobStatus.FINISHED
    assert SandboxUser.objects.filter(account=admin_a.account, user_name="fresh@acme.example.com").exists()
