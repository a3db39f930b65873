"""Bulk-change pages: job history, a job's plan and live progress, its controls and its results file."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zoomadmin.accounts.access import AccountRequest, account_view
from zoomadmin.directory.forms import UserFilterForm, selected_ids
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser
from zoomadmin.directory.sync import sync_freshness
from zoomadmin.imports import plan, selection, services
from zoomadmin.imports.columns import FIELD_LABELS, Field
from zoomadmin.imports.csvfile import CsvRefused, size_check
from zoomadmin.imports.forms import SelectionForm, StartForm, UploadForm
from zoomadmin.imports.models import ChangeSet, JobStatus, Outcome

# Fired by each progress poll's answer; the rows table listens to fetch itself again.
JOB_PROGRESS_EVENT = "job-progress"

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

    htmx polls the `progress` partial while the job runs; the partial stops polling once it ends. Each
    poll's answer fires `job-progress`, on which the rows table (this page of it) fetches itself again,
    so its states and outcomes follow the job, including the poll that finds it ended.
    """
    change_set = _change_set(request, change_set_id)
    if request.htmx and request.GET.get("part") == "progress":
        response = render(
            request,
            "imports/detail.html#progress",
            {"account": request.zoom_account, "job": change_set, "progress": services.job_progress(change_set)},
        )
        response["HX-Trigger"] = JOB_PROGRESS_EVENT
        return response
    outcome = request.GET.get("outcome", "")
    rows = change_set.rows.order_by("line")
    if outcome in Outcome.values:
        rows = rows.filter(planned=outcome)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    outcomes = [
        (value, label, change_set.totals.get(value, 0))
        for value, label in Outcome.choices
        if change_set.totals.get(value)
    ]
    rows_context = {
        "account": request.zoom_account,
        "job": change_set,
        "page_obj": page,
        "outcome": outcome,
        "outcomes": outcomes,
    }
    if request.htmx and request.htmx.target == "job-rows":
        return render(request, "imports/detail.html#rows", rows_context)
    return render(
        request,
        "imports/detail.html",
        {
            **rows_context,
            "progress": services.job_progress(change_set),
            "form": StartForm(),
            "freshness": sync_freshness(account=request.zoom_account)
            if change_set.status == JobStatus.PLANNED
            else None,
            "mapping": _mapping_context(change_set),
            "active_nav": "imports",
        },
    )


def _mapping_context(change_set: ChangeSet) -> dict[str, object] | None:
    """The unknown columns of a planned CSV whose file is still kept, with the fields they can map to."""
    if change_set.status != JobStatus.PLANNED:
        return None
    options = plan.upload_options(change_set.pk)
    if not options or not options.get("unknown"):
        return None
    choices = [(name.value, FIELD_LABELS[name]) for name in Field if name is not Field.EMAIL]
    return {"unknown": options["unknown"], "choices": choices}


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
        lambda job: _forgetting(
            services.job_start(change_set=job, connection=request.zoom_connection, typed_count=typed)
        ),
        "Started. Rows are being applied now.",
    )


def _forgetting(change_set: ChangeSet) -> ChangeSet:
    # Once a plan starts or is discarded its columns can no longer be remapped: the file goes.
    plan.upload_forget(change_set.pk)
    return change_set


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
        lambda job: _forgetting(services.job_cancel(change_set=job, connection=request.zoom_connection)),
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


# ---------------------------------------------------------------------------------------------
# Upload a CSV, map its unknown columns, and bulk actions from the users list


def max_upload_bytes() -> int:
    """The largest file the upload page and `import_csv` accept (IMPORTS_MAX_UPLOAD_MB)."""
    return int(settings.IMPORTS_MAX_UPLOAD_MB) * 1024 * 1024


@account_view
@require_http_methods(["GET", "POST"])
def upload(request: AccountRequest) -> HttpResponse:
    """Upload a CSV file; it is planned against the mirror (nothing is sent to Zoom) and the plan page opens.

    A refused file (too large, not a CSV, no email column, never-synced mirror...) shows the sentence
    saying why, and nothing is stored.
    """
    account = request.zoom_account
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                size_check(uploaded.size, max_bytes=max_upload_bytes())
                change_set = plan.import_plan(
                    account=account,
                    connection=request.zoom_connection,
                    binary=uploaded,
                    file_name=uploaded.name or "upload.csv",
                    create_missing_groups=form.cleaned_data["create_missing_groups"],
                )
            except (CsvRefused, plan.PlanRefused) as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(request, "Planned. Nothing has been sent to Zoom: review the plan, then start it.")
                return redirect("imports:detail", account.zoom_id, change_set.pk)
        status = 422
    return render(
        request,
        "imports/upload.html",
        {
            "account": account,
            "form": form,
            "max_upload_mb": settings.IMPORTS_MAX_UPLOAD_MB,
            "freshness": sync_freshness(account=account),
            "active_nav": "imports",
        },
        status=status,
    )


@account_view
@require_POST
def remap(request: AccountRequest, change_set_id: int) -> HttpResponse:
    """Plan the stored file again with its unknown columns mapped to fields or ignored (`map_<index>`)."""
    change_set = _change_set(request, change_set_id)
    mapping: dict[int, Field | None] = {}
    for key, value in request.POST.items():
        if not key.startswith("map_") or not key[4:].isdigit():
            continue
        if value == "ignore":
            mapping[int(key[4:])] = None
        elif value in {name.value for name in Field if name is not Field.EMAIL}:
            mapping[int(key[4:])] = Field(value)
    try:
        new = plan.import_replan(change_set=change_set, connection=request.zoom_connection, mapping=mapping)
    except (CsvRefused, plan.PlanRefused, services.JobRefused) as exc:
        messages.error(request, exc.message)
        return redirect("imports:detail", request.zoom_account.zoom_id, change_set.pk)
    messages.success(request, "Planned again with the columns as you mapped them.")
    return redirect("imports:detail", request.zoom_account.zoom_id, new.pk)


@account_view
@require_http_methods(["GET", "POST"])
def selection_action(request: AccountRequest) -> HttpResponse:
    """A bulk action on users picked in the users list: choose it (GET), then plan it (POST) → the plan page.

    The users list's filters and ticked `id`s come along as parameters; without ticked ids the
    action applies to every user matching the filters.
    """
    account = request.zoom_account
    params = request.POST if request.method == "POST" else request.GET
    filter_form = UserFilterForm(params or None, account=account)
    filters = filter_form.filters()
    ids = selected_ids(params.getlist("id"))
    # "Selected" buttons with nothing ticked must not fall back to every matching user: that takes scope=all.
    everyone = params.get("scope") == "all" and not ids
    users = (
        selection.selection_users(account=account, zoom_user_ids=ids, filters=filters)
        if ids or everyone
        else DirectoryUser.objects.none()
    )
    groups = DirectoryGroup.objects.filter(account=account).order_by("display_name")
    form = SelectionForm(
        request.POST if request.method == "POST" else None,
        initial={"action": request.GET.get("action", "")},
        groups=[(group.zoom_id, group.display_name) for group in groups],
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            target = form.cleaned_data["target_group"]
            group = groups.filter(zoom_id=target).first() if target else None
            try:
                change_set = selection.changeset_from_selection(
                    account=account,
                    connection=request.zoom_connection,
                    action=form.cleaned_data["action"],
                    zoom_user_ids=ids,
                    filters=filters if everyone else None,
                    group=group,
                )
            except plan.PlanRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Planned. Nothing has been sent to Zoom: review the plan, then start it.")
                return redirect("imports:detail", account.zoom_id, change_set.pk)
        status = 422
    # The list's filters and ticked ids ride along in the confirmation form.
    skip = ("csrfmiddlewaretoken", "action", "target_group", "page")
    hidden = [(name, value) for name in params if name not in skip for value in params.getlist(name)]
    return render(
        request,
        "imports/selection.html",
        {
            "account": account,
            "form": form,
            "count": users.count(),
            "ticked": bool(ids),
            "sample": list(users.only("zoom_id", "email", "display_name")[:10]),
            "hidden": hidden,
            "active_nav": "users",
        },
        status=status,
    )
