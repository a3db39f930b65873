"""The audit log page and its CSV export: what an admin sees, filters, escaping, isolation, query counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.audit.models import AuditAction, AuditEvent, AuditResult, AuditTarget
from zoomadmin.audit.services import CSV_HEADER, audit_record
from zoomadmin.zoom.errors import Conflict, OutcomeUnknown

pytestmark = pytest.mark.django_db

Record = Callable[..., AuditEvent]


def _url(connection: ZoomConnection, name: str = "audit:list") -> str:
    return reverse(name, args=[connection.account.zoom_id])


def _page(client: Client, url: str, **params: Any) -> str:
    answer = client.get(url, params)
    assert answer.status_code == 200, answer.content[:500]
    return answer.content.decode()


def _csv(client: Client, url: str, **params: Any) -> list[list[str]]:
    answer = client.get(url, params)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"].startswith('attachment; filename="audit-')
    text = b"".join(answer.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text)))


def test_the_log_lists_changes_newest_first_with_zooms_answer(
    client_a: Client, connection_a: ZoomConnection, record: Record
) -> None:
    record(connection_a, target_label="old@acme.example.com", changes={"title": ["Engineer", "Lead"]})
    record(
        connection_a,
        action=AuditAction.USER_CREATE,
        target_label="dup@acme.example.com",
        target_zoom_id="",
        changes={"email": [None, "dup@acme.example.com"]},
        error=Conflict("Zoom refused the change because it conflicts with existing data. Zoom said: taken", status=409),
    )

    html = _page(client_a, _url(connection_a))

    assert html.index("dup@acme.example.com") < html.index("old@acme.example.com")
    assert "Create user" in html
    assert "Zoom said: taken" in html
    assert "(HTTP 409)" in html
    assert "Failed" in html
    assert "<del><bdi>Engineer</bdi></del> → <ins><bdi>Lead</bdi></ins>" in html
    assert connection_a.zoom_email in html


def test_an_empty_log_says_so(client_a: Client, connection_a: ZoomConnection) -> None:
    assert "No changes yet" in _page(client_a, _url(connection_a))


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\u202eevil.exe\u202c@acme.example.com",
    "Team 🎉 👩‍💻",
    "x" * 300,
]


def test_hostile_names_render_escaped(client_a: Client, connection_a: ZoomConnection, record: Record) -> None:
    for name in HOSTILE:
        record(
            connection_a,
            target_type=AuditTarget.GROUP,
            action=AuditAction.GROUP_RENAME,
            target_label=name,
            changes={"name": ["Sales", name]},
            error=Conflict(f"Zoom said: {name}", status=409),
        )

    html = _page(client_a, _url(connection_a))

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # Right-to-left overrides stay inside their own <bdi>, so they cannot reorder the text around them.
    assert "<bdi>\u202eevil.exe\u202c@acme.example.com</bdi>" in html
    assert "Team 🎉 👩‍💻" in html
    assert "x" * 300 in html


def _seed_filters(connection_a: ZoomConnection, connection_a2: ZoomConnection, record: Record) -> None:
    now = timezone.now()
    record(connection_a, target_label="ann@acme.example.com", action=AuditAction.USER_CREATE)
    record(connection_a2, target_label="bob@acme.example.com", action=AuditAction.USER_DEACTIVATE)
    record(
        connection_a,
        target_label="100%_sales",
        target_type=AuditTarget.GROUP,
        action=AuditAction.GROUP_RENAME,
        error=Conflict(status=409),
    )
    old = record(connection_a, target_label="cy@acme.example.com", action=AuditAction.USER_DELETE)
    AuditEvent.objects.filter(pk=old.pk).update(created=now - timedelta(days=40))
    audit_record(
        account=connection_a.account,
        actor=None,
        action=AuditAction.USER_UPDATE,
        target_type=AuditTarget.USER,
        target_zoom_id="u-9",
        target_label="dee@acme.example.com",
        error=OutcomeUnknown(method="PATCH", path="/scim2/Users/u-9", reason="timeout"),
    )


@pytest.fixture
def connection_a2(stored_connection: Callable[..., ZoomConnection], admin_a2: Any) -> ZoomConnection:
    return stored_connection(admin_a2)


LABELS = ["ann@", "bob@", "100%_sales", "cy@", "dee@"]


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({}, LABELS),
        ({"action": "user.deactivate"}, ["bob@"]),
        ({"result": "failure"}, ["100%_sales"]),
        ({"result": "unknown"}, ["dee@"]),
        ({"person": "system"}, ["dee@"]),
        ({"target": "%_"}, ["100%_sales"]),
        ({"target": "ACME.EXAMPLE"}, ["ann@", "bob@", "cy@", "dee@"]),
        ({"since": "{40}", "until": "{40}"}, ["cy@"]),
        ({"since": "{1}"}, ["ann@", "bob@", "100%_sales", "dee@"]),
        # A reversed range is read the way round that makes sense.
        ({"since": "{0}", "until": "{40}"}, LABELS),
    ],
)
def test_filters_narrow_the_list(
    client_a: Client,
    connection_a: ZoomConnection,
    connection_a2: ZoomConnection,
    record: Record,
    params: dict[str, str],
    shown: list[str],
) -> None:
    _seed_filters(connection_a, connection_a2, record)
    today = timezone.localdate()
    params = {
        key: (today - timedelta(days=int(value[1:-1]))).isoformat() if value.startswith("{") else value
        for key, value in params.items()
    }

    html = _page(client_a, _url(connection_a), **params)

    assert [label for label in LABELS if f"<bdi>{label}" in html] == shown


def test_the_person_filter_lists_each_admin_and_narrows_to_one(
    client_a: Client, connection_a: ZoomConnection, connection_a2: ZoomConnection, record: Record
) -> None:
    _seed_filters(connection_a, connection_a2, record)

    html = _page(client_a, _url(connection_a), person=connection_a2.zoom_user_id)

    assert f'<option value="{connection_a2.zoom_user_id}" selected>' in html
    assert f'<option value="{connection_a.zoom_user_id}">' in html
    assert "<bdi>bob@" in html
    assert "<bdi>ann@" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "user.explode"}, "Ignored the “Action” filter"),
        ({"result": "maybe"}, "Ignored the “Result” filter"),
        ({"person": "someone-else"}, "Ignored the “Who” filter"),
        ({"since": "yesterday"}, "Ignored the “From” filter"),
        ({"until": "2024-02-30"}, "Ignored the “To” filter"),
        ({"since": "0001-01-01"}, "Pick a date between 2000 and 9998"),
        ({"target": "x" * 5000}, "Ignored the “Target” filter"),
        ({"page": "abc"}, None),
        ({"page": "99999"}, None),
        ({"page": "-1"}, None),
    ],
)
def test_bad_filter_values_get_a_message_and_show_everything(
    client_a: Client, connection_a: ZoomConnection, record: Record, params: dict[str, str], message: str | None
) -> None:
    record(connection_a, target_label="ann@acme.example.com")

    html = _page(client_a, _url(connection_a), **params)

    assert "<bdi>ann@acme.example.com" in html
    if message:
        assert message in html


def test_htmx_gets_only_the_results(client_a: Client, connection_a: ZoomConnection, record: Record) -> None:
    record(connection_a, target_label="ann@acme.example.com", action=AuditAction.USER_CREATE)
    record(connection_a, target_label="bob@acme.example.com", action=AuditAction.USER_DELETE)

    answer = client_a.get(
        _url(connection_a), {"action": "user.delete", "result": "nope"}, headers={"HX-Request": "true"}
    )

    html = answer.content.decode()
    assert answer.status_code == 200
    assert "<html" not in html
    assert 'data-testid="audit-results"' in html
    assert "<bdi>bob@acme.example.com" in html
    assert "<bdi>ann@" not in html
    # The export link inside the partial follows the filters; the bad one comes as an out-of-band toast.
    assert "export.csv?action=user.delete&amp;result=nope" in html
    assert 'hx-swap-oob="beforeend:#toasts"' in html
    assert "Ignored the “Result” filter" in html


def test_pages_keep_the_filters(client_a: Client, connection_a: ZoomConnection, record: Record) -> None:
    for n in range(55):
        record(connection_a, target_label=f"user{n:02}@acme.example.com", action=AuditAction.USER_CREATE)
    record(connection_a, target_label="other@acme.example.com")

    first = _page(client_a, _url(connection_a), action="user.create")
    second = _page(client_a, _url(connection_a), action="user.create", page="2")

    assert "1\N{EN DASH}50 of 55 changes" in first
    assert "?action=user.create&amp;page=2" in first
    assert "51\N{EN DASH}55 of 55 changes" in second
    assert "<bdi>user00@" in second
    assert "<bdi>other@" not in first + second


def test_export_holds_the_filtered_events_with_formulas_neutralised(
    client_a: Client, connection_a: ZoomConnection, record: Record
) -> None:
    record(
        connection_a,
        target_type=AuditTarget.GROUP,
        action=AuditAction.GROUP_CREATE,
        target_label='=HYPERLINK("http://evil.example","x")',
        changes={"name": [None, "+1 (555)"]},
        error=Conflict("-already there", status=409),
    )
    for label in ["@SUM(A1)", "\tcmd", "\rline", "-2+3", "plain@acme.example.com"]:
        record(connection_a, target_label=label, action=AuditAction.USER_UPDATE)

    rows = _csv(client_a, _url(connection_a, "audit:export"))

    assert rows[0] == CSV_HEADER
    assert len(rows) == 7
    column = CSV_HEADER.index("target")
    assert [row[column] for row in rows[1:]] == [
        "plain@acme.example.com",
        "'-2+3",
        "'\rline",
        "'\tcmd",
        "'@SUM(A1)",
        '\'=HYPERLINK("http://evil.example","x")',
    ]
    group = rows[-1]
    assert group[CSV_HEADER.index("result")] == "failure"
    assert group[CSV_HEADER.index("zoom_status")] == "409"
    assert group[CSV_HEADER.index("zoom_message")] == "'-already there"
    assert group[CSV_HEADER.index("changes")] == '{"name": [null, "+1 (555)"]}'
    assert group[CSV_HEADER.index("zoom_email")] == connection_a.zoom_email

    filtered = _csv(client_a, _url(connection_a, "audit:export"), action="group.create")
    assert len(filtered) == 2


def test_admin_of_b_never_sees_as_events(
    client_b: Client, connection_a: ZoomConnection, connection_b: ZoomConnection, record: Record
) -> None:
    record(connection_a, target_label="secret-a@acme.example.com")
    record(connection_b, target_label="own-b@beta.example.com")

    assert client_b.get(_url(connection_a)).status_code == 404
    assert client_b.get(_url(connection_a, "audit:export")).status_code == 404
    assert client_b.get(_url(connection_a), headers={"HX-Request": "true"}).status_code == 404
    # On B's own page, A's admin is no choice, and naming them anyway narrows nothing to A's events.
    html = _page(client_b, _url(connection_b), person=connection_a.zoom_user_id, target="secret")
    assert "secret-a" not in html
    assert connection_a.zoom_email not in html
    assert "Ignored the “Who” filter" in html
    rows = _csv(client_b, _url(connection_b, "audit:export"), person=connection_a.zoom_user_id)
    assert [row[CSV_HEADER.index("target")] for row in rows[1:]] == ["own-b@beta.example.com"]


def test_signed_out_visitors_are_sent_to_sign_in(visitor: Client, connection_a: ZoomConnection) -> None:
    answer = visitor.get(_url(connection_a))
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("events", [3, 60])
def test_the_list_costs_the_same_queries_for_any_number_of_events(
    client_a: Client,
    connection_a: ZoomConnection,
    connection_a2: ZoomConnection,
    record: Record,
    events: int,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(events):
        record(connection_a if n % 2 else connection_a2, target_label=f"user{n}@acme.example.com", job_id=n)
    # Warm the session and the person's connection like any page does, then count one view.
    client_a.get(_url(connection_a))

    with django_assert_max_num_queries(7):
        html = _page(client_a, _url(connection_a), result=AuditResult.SUCCESS)
    assert html.count("<tr data-action") == min(events, 50)
