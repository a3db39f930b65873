"""The audit log page of an account and its CSV export; every view is wrapped in `account_view`."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from zoomadmin.accounts.access import AccountRequest, account_view
from zoomadmin.audit.forms import AuditFilterForm
from zoomadmin.audit.services import audit_csv_rows, audit_events

PAGE_SIZE = 50


@account_view
@require_GET
def event_list(request: AccountRequest) -> HttpResponse:
    """The account's audit log, newest first, filtered by the query string; htmx gets the results only."""
    form = AuditFilterForm(request.GET or None, account=request.zoom_account)
    filters = form.filters()
    events = audit_events(account=request.zoom_account, **filters)
    for problem in form.problems():
        messages.warning(request, problem)
    # get_page: a page number that is not a number, or past the end, shows the first or the last page.
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "account": request.zoom_account,
        "form": form,
        "filtered": bool(filters),
        "page_obj": page,
        "active_nav": "audit",
    }
    template = "audit/list.html#results" if request.htmx and not request.htmx.boosted else "audit/list.html"
    response = render(request, template, context)
    # The page and its results partial share this URL: without Vary the browser's cache can hand the
    # partial back when the admin navigates here (the back button after htmx pushed the URL).
    patch_vary_headers(response, ["HX-Request"])
    return response


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


@account_view
@require_GET
def export(request: AccountRequest) -> HttpResponse:
    """The events matching the page's filters as a CSV file, streamed (no size limit, flat memory)."""
    # The same filters as the page the link was on; a nonsensical one was already explained there.
    form = AuditFilterForm(request.GET or None, account=request.zoom_account)
    events = audit_events(account=request.zoom_account, **form.filters())
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in audit_csv_rows(events):
            yield writer.writerow(row)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # Only letters, digits, - and _ of the account id reach the header, whatever Zoom sent.
    name = f"audit-{re.sub(r'[^A-Za-z0-9_-]', '', request.zoom_account.zoom_id)}-{stamp}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # account_view is typed for HttpResponse but hands any response through untouched.
    return cast(HttpResponse, response)
