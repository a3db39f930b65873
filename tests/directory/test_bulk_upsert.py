"""The sync's bulk writer: upserts that say which rows they wrote, and inserts of rows expected to
be new that fall back to the upsert when one exists after all (on PostgreSQL and on SQLite)."""

from __future__ import annotations

import json

import pytest

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.models import DirectoryGroup, DirectoryMembership, DirectoryUser
from zoomadmin.directory.sync import USER_UPSERT_FIELDS, JsonText, bulk_upsert

pytestmark = pytest.mark.django_db


def _user(account: ZoomAccount, zoom_id: str, title: str = "") -> dict[str, object]:
    return {
        "account_id": account.pk,
        "zoom_id": zoom_id,
        "user_name": f"{zoom_id}@example.com",
        "email": f"{zoom_id}@example.com",
        "display_name": zoom_id,
        "title": title,
        "raw": JsonText(json.dumps({"id": zoom_id})),
        "payload_hash": zoom_id,
        "updated_generation": 1,
    }


def test_upsert_returns_the_key_of_every_row_inserted_or_updated() -> None:
    account = ZoomAccount.objects.create(zoom_id="acct-1", name="One")
    other = ZoomAccount.objects.create(zoom_id="acct-2", name="Two")
    bulk_upsert(DirectoryUser, [_user(other, "u1")], unique_fields=("account", "zoom_id"), update_fields=())
    first = bulk_upsert(
        DirectoryUser,
        [_user(account, "u1"), _user(account, "u2")],
        unique_fields=("account", "zoom_id"),
        update_fields=USER_UPSERT_FIELDS,
        returning=("zoom_id", "pk"),
    )
    ids = dict(DirectoryUser.objects.filter(account=account).values_list("zoom_id", "pk"))
    assert sorted(first) == sorted(ids.items())

    again = bulk_upsert(
        DirectoryUser,
        [_user(account, "u2", title="Changed"), _user(account, "u3")],
        unique_fields=("account", "zoom_id"),
        update_fields=USER_UPSERT_FIELDS,
        returning=("zoom_id", "pk"),
    )
    ids = dict(DirectoryUser.objects.filter(account=account).values_list("zoom_id", "pk"))
    assert sorted(again) == [("u2", ids["u2"]), ("u3", ids["u3"])]
    assert DirectoryUser.objects.get(account=account, zoom_id="u2").raw == {"id": "u2"}
    # The other account's user of the same Zoom id is neither returned nor touched.
    assert DirectoryUser.objects.filter(zoom_id="u1").count() == 2


def test_rows_expected_new_that_exist_after_all_take_the_upsert() -> None:
    account = ZoomAccount.objects.create(zoom_id="acct-1", name="One")
    rows = [_user(account, f"u{n}") for n in range(3)]
    bulk_upsert(DirectoryUser, rows, unique_fields=("account", "zoom_id"), update_fields=())
    users = list(DirectoryUser.objects.filter(account=account).order_by("zoom_id"))
    group = DirectoryGroup.objects.create(account=account, zoom_id="g1", display_name="G")
    pair = {"account_id": account.pk, "group_id": group.pk}
    DirectoryMembership.objects.create(account=account, group=group, user=users[0])

    def insert_all() -> None:
        bulk_upsert(
            DirectoryMembership,
            [{**pair, "user_id": user.pk} for user in users],
            unique_fields=("group", "user"),
            update_fields=(),
            probably_new=True,
        )

    # users[0] is a member already (an admin added them meanwhile): the batch still lands whole.
    insert_all()
    assert sorted(DirectoryMembership.objects.values_list("user_id", flat=True)) == [user.pk for user in users]

    DirectoryMembership.objects.all().delete()
    insert_all()
    assert DirectoryMembership.objects.count() == 3


@pytest.mark.parametrize(
    ("probably_new", "message"), [(True, "returns nothing"), (False, "returning needs update_fields")]
)
def test_inserts_that_leave_rows_alone_cannot_say_what_was_written(probably_new: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bulk_upsert(
            DirectoryMembership,
            [{"account_id": 1, "group_id": 1, "user_id": 1}],
            unique_fields=("group", "user"),
            update_fields=(),
            returning=("pk",),
            probably_new=probably_new,
        )
    assert not DirectoryMembership.objects.exists()
