"""Bulk-change pages: job history, a job's plan and live progress, its controls and its results file."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from zoomadmin.accounts.access import AccountRequest, account_view
from zoomadmin.imports import services
from zoomadmin.imports.forms import StartForm
from zoomadmin.imports.models import ChangeSet, Outcome

ROWS_PER_PAGE = 50


def _change_set(request: AccountRequest, change_set_id: int) -> ChangeSet:
    """The change set, only if it belongs to the page's account (else 404, like any unknown id)."""
    change_set = (
        ChangeSet.objects.filter(pk=change_set_id, account=request.zoom_account).select_related("account").first()
    )
    if change_set is None:
        raise Http404("No such job.")
    return change_set


@account_view
@require_GET
def job_list(request: AccountRequest) -> HttpResponse:
    """The account's bulk jobs, newest first."""
    page = Paginator(ChangeSet.objects.filter(account=request.zoom_account), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/list.html",
        {"account": request.zoom_account, "page_obj": page, "active_nav": "imports"},
    )


@account_view
@require_GET
def job_detail(request: AccountRequest, change_set_id: int) -> HttpResponse:
    """A change set: its plan (totals, rows by outcome, estimate, safeguard) and, once started, its progress.

    htmx polls the `progress` partial while the job runs; the partial stops polling once it ends.
    """
    change_set = _change_set(request, change_set_id)
    progress = services.job_progress(change_set)
    if request.htmx and request.GET.get("part") == "progress":
        return render(
            request,
            "imports/detail.html#progress",
            {"account": request.zoom_account, "job": change_set, "progress": progress},
        )
    outcome = request.GET.get("outcome", "")
    rows = change_set.rows.order_by("line")
    if outcome in Outcome.values:
        rows = rows.filter(planned=outcome)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/detail.html",
        {
            "account": request.zoom_account,
            "job": change_set,
            "progress": progress,
            "page_obj": page,
            "outcome": outcome,
            "outcomes": [
                (value, label, change_set.totals.get(value, 0))
                for value, label in Outcome.choices
                if change_set.totals.get(value)
            ],
            "form": StartForm(),
            "active_nav": "imports",
        },
    )


def _act(
    request: AccountRequest, change_set_id: int, action: Callable[[ChangeSet], ChangeSet], done: str
) -> HttpResponse:
    change_set = _change_set(request, change_set_id)
    try:
        change_set = action(change_set)
    except services.JobRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("imports:detail", request.zoom_account.zoom_id, change_set.pk)


@account_view
@require_POST
def job_start_view(request: AccountRequest, change_set_id: int) -> HttpResponse:
    """Start a planned change set; the safeguard's typed number comes with the form."""
    form = StartForm(request.POST)
    typed = form.cleaned_data["typed_count"] if form.is_valid() else None
    return _act(
        request,
        change_set_id,
        lambda job: services.job_start(change_set=job, connection=request.zoom_connection, typed_count=typed),
        "Started. Rows are being applied now.",
    )


@account_view
@require_POST
def job_pause_view(request: AccountRequest, change_set_id: int) -> HttpResponse:
    return _act(
        request,
        change_set_id,
        lambda job: services.job_pause(change_set=job, connection=request.zoom_connection),
        "Paused. Rows already sent finish; nothing new starts until you resume.",
    )


@account_view
@require_POST
def job_resume_view(request: AccountRequest, change_set_id: int) -> HttpResponse:
    return _act(
        request,
        change_set_id,
        lambda job: services.job_resume(change_set=job, connection=request.zoom_connection),
        "Resumed.",
    )


@account_view
@require_POST
def job_cancel_view(request: AccountRequest, change_set_id: int) -> HttpResponse:
    return _act(
        request,
        change_set_id,
        lambda job: services.job_cancel(change_set=job, connection=request.zoom_connection),
        "Cancelled. Rows not yet started will not be applied.",
    )


@account_view
@require_POST
def job_retry_view(request: AccountRequest, change_set_id: int) -> HttpResponse:
    """A new change set from this job's failed rows; review it, then start it."""
    return _act(
        request,
        change_set_id,
        lambda job: services.changeset_retry_failed(change_set=job, connection=request.zoom_connection),
        "The failed rows are ready to try again: review them, then start.",
    )


@account_view
@require_GET
def job_results(request: AccountRequest, change_set_id: int) -> HttpResponse:
    """Every row's outcome as CSV: the original columns plus the outcome columns (streamed)."""
    change_set = _change_set(request, change_set_id)
    response = StreamingHttpResponse(services.results_csv(change_set), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="zoomadmin-job-{change_set.pk}-results.csv"'
    # account_view is typed for HttpResponse but hands any response through untouched.
    return cast(HttpResponse, response)
