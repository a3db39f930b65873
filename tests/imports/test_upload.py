"""The upload page: a CSV becomes a plan; refused files say why and store nothing; unknown columns are mapped."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.imports import plan_fixtures
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.imports.models import ChangeSet, JobStatus, Outcome
from zoomadmin.imports.plan import UPLOAD_KEEP_SECONDS, upload_path, uploads_sweep

pytestmark = pytest.mark.django_db(transaction=True)

connection = plan_fixtures.connection
admin = plan_fixtures.admin


def _url(connection: ZoomConnection) -> str:
    return f"/a/{connection.account.zoom_id}/imports/new"


def _file(data: bytes, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_page_and_its_links(admin: Client, connection: ZoomConnection) -> None:
    page = admin.get(_url(connection)).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "js/upload.js" in page
    assert "Create missing groups" in page
    assert "At most 50 MB" in page
    assert _url(connection) in admin.get(f"/a/{connection.account.zoom_id}/imports/").content.decode()
    assert _url(connection) in admin.get(f"/a/{connection.account.zoom_id}/users/").content.decode()


def test_an_upload_is_planned_and_opens_the_plan(admin: Client, connection: ZoomConnection) -> None:
    data = (
        b"Email,First Name,Last Name,Department\n"
        b"new.one@acme.example.com,New,One,Sales\n"
        b"member@acme.example.com,,,Legal\n"
    )
    answer = admin.post(_url(connection), {"file": _file(data)})
    change_set = ChangeSet.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/a/{connection.account.zoom_id}/imports/{change_set.pk}/"
    assert change_set.totals == {Outcome.CREATE: 1, Outcome.UPDATE: 1}
    assert change_set.file_name == "people.csv"
    page = admin.get(answer["Location"]).content.decode()
    assert "department: “—” → “Legal”" in page
    assert "Compared with the account's users as synced from Zoom" in page


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"", "empty"),
        (b"Email,First Name\n", "a header line but no rows"),
        (b"Name,Department\nA,B\n", "no email column"),
        (b"%PDF-1.7\n\x00\x01binary", "PDF document"),
    ],
)
def test_a_refused_file_says_why_and_stores_nothing(
    admin: Client, connection: ZoomConnection, data: bytes, sentence: str
) -> None:
    answer = admin.post(_url(connection), {"file": _file(data)})
    assert answer.status_code == 422
    assert sentence in answer.content.decode()
    assert "The file was not planned." in answer.content.decode()
    assert not ChangeSet.objects.exists()


def test_the_size_limit(admin: Client, connection: ZoomConnection, settings: object) -> None:
    settings.IMPORTS_MAX_UPLOAD_MB = 1  # type: ignore[attr-defined]
    data = b"Email\n" + b"x@acme.example.com\n" * 60_000
    answer = admin.post(_url(connection), {"file": _file(data)})
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "over the limit of 1.0 MB" in page
    assert "split it into smaller files" in page
    assert not ChangeSet.objects.exists()


def test_unknown_columns_are_mapped_and_the_file_planned_again(admin: Client, connection: ZoomConnection) -> None:
    data = b"Email,Abteilung,Shoe size\nmember@acme.example.com,Legal,44\n"
    first = admin.post(_url(connection), {"file": _file(data)})
    plan = ChangeSet.objects.get()
    assert plan.unknown_columns == ["Abteilung", "Shoe size"]
    assert plan.totals == {Outcome.UNCHANGED: 1}
    page = admin.get(first["Location"]).content.decode()
    assert 'name="map_1"' in page
    assert 'name="map_2"' in page
    assert upload_path(plan.pk).exists()

    answer = admin.post(f"{first['Location']}columns", {"map_1": "department", "map_2": "ignore"})
    replanned = ChangeSet.objects.exclude(pk=plan.pk).get()
    assert answer["Location"] == f"/a/{connection.account.zoom_id}/imports/{replanned.pk}/"
    assert replanned.totals == {Outcome.UPDATE: 1}
    assert replanned.unknown_columns == []
    assert replanned.rows.get().after == {"department": "Legal"}
    plan.refresh_from_db()
    assert plan.status == JobStatus.CANCELLED
    assert not upload_path(plan.pk).exists()
    # Discarding the new plan removes its kept file too.
    admin.post(f"{answer['Location']}cancel")
    assert not upload_path(replanned.pk).exists()


def test_the_upload_of_another_account_is_not_found(
    admin: Client, connection: ZoomConnection, account_b: object
) -> None:
    answer = admin.post(f"/a/{account_b.zoom_id}/imports/new", {"file": _file(b"Email\nx@beta.example.com\n")})  # type: ignore[attr-defined]
    assert answer.status_code == 404
    assert not ChangeSet.objects.exists()


def test_kept_uploads_are_swept(admin: Client, connection: ZoomConnection) -> None:
    data = b"Email,Shoe size\nmember@acme.example.com,44\n"
    first = ChangeSet.objects.get(pk=_planned(admin, connection, data))
    second = ChangeSet.objects.get(pk=_planned(admin, connection, data))
    ChangeSet.objects.filter(pk=first.pk).update(status=JobStatus.FINISHED)

    assert uploads_sweep() == 1
    assert not upload_path(first.pk).exists()
    assert upload_path(second.pk).exists()
    # A plan left waiting for more than a day loses its kept file (it can still be started).
    assert uploads_sweep(now=time.time() + UPLOAD_KEEP_SECONDS + 60) == 1
    assert not upload_path(second.pk).exists()
    assert "map_1" not in admin.get(f"/a/{connection.account.zoom_id}/imports/{second.pk}/").content.decode()


def _planned(admin: Client, connection: ZoomConnection, data: bytes) -> int:
    answer = admin.post(_url(connection), {"file": _file(data)})
    return int(answer["Location"].rstrip("/").rsplit("/", 1)[1])
