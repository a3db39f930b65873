"""The directory pages: users (list, detail, edit, create, delete, export) and groups (list, detail, members).

Every view is wrapped in `account_view` (outermost): the account comes from the URL and every
query below is scoped to it. Lists read the mirror; detail pages read the one user live from Zoom
and refresh the mirror row; every change goes through `services` (Zoom first, then the mirror,
then the audit log) and a `ZoomError` reaches the admin as the sentence in its `.message`.

One view, two renderings: the full page, or the named partial of the same template when htmx asks
for one region (`#results`, `#profile`, …). Forms keep their `action`, so everything also works
without JavaScript (a POST answers with a redirect, the htmx request with the fragment).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zoomadmin.accounts.access import AccountRequest, account_view
from zoomadmin.accounts.views import safe_next
from zoomadmin.audit.models import AuditTarget
from zoomadmin.audit.services import audit_for_target
from zoomadmin.directory import changes
from zoomadmin.directory.forms import (
    GroupDeleteForm,
    GroupNameForm,
    UserCreateForm,
    UserDeleteForm,
    UserEditForm,
    UserFilterForm,
    selected_ids,
)
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser
from zoomadmin.directory.search import UserFilters, groups_search, user_facets, users_page, users_search
from zoomadmin.directory.sync import sync_freshness, sync_request
from zoomadmin.imports.engine import MIRROR_COLUMNS
from zoomadmin.zoom.errors import NotFound, ZoomError

GROUPS_PAGE_SIZE = 50
MEMBERS_PAGE_SIZE = 50
# Users offered when adding members: the first matches of what the admin typed.
CANDIDATES_LIMIT = 25
HISTORY_LIMIT = 20
# The columns the users list and the members list show.
LIST_FIELDS = ("zoom_id", "email", "display_name", "department", "title", "enriched_at", "status", "user_type", "role")


def _fragment(request: AccountRequest) -> bool:
    """Whether to answer with a region rather than the page (an htmx swap, not a boost or a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _target(request: AccountRequest) -> str:
    return (request.htmx.target or "") if request.htmx else ""


def _render(request: AccountRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a page or its partial; `Vary: HX-Request` keeps the browser's cache from serving the
    partial of a URL when the person navigates to it (the back button after htmx pushed that URL)."""
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _base_context(request: AccountRequest, active_nav: str) -> dict[str, Any]:
    return {"account": request.zoom_account, "active_nav": active_nav}


# ---------------------------------------------------------------------------------------------
# Users


@account_view
@require_GET
def user_list(request: AccountRequest) -> HttpResponse:
    """The account's users from the mirror: search, filters, sort and page size all in the URL."""
    account = request.zoom_account
    fragment = _fragment(request)
    # The filter menus are only drawn on the full page; the results region does not need them.
    form = UserFilterForm(request.GET or None, account=account, facets=None if fragment else user_facets(account))
    filters = form.filters()
    for problem in form.problems():
        messages.warning(request, problem)
    # A page that is not a number is the first, one past the end (or a billion) the last. Only what
    # a row shows is loaded: the raw payload and the profile fields would be read for nothing.
    page = users_page(account, filters, number=request.GET.get("page"), per_page=form.page_size(), fields=LIST_FIELDS)
    context = {
        **_base_context(request, "users"),
        "form": form,
        "filters": filters,
        "page_obj": page,
        "sort": filters.sort,
        "freshness": None if fragment else sync_freshness(account=account),
    }
    template = "directory/user_list.html#results" if fragment else "directory/user_list.html"
    return _render(request, template, context)


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterator[list[str]], prefix: str, account_id: str) -> HttpResponse:
    writer = csv.writer(_Echo())
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # Only letters, digits, - and _ of the account id reach the header, whatever Zoom sent.
    name = f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '', account_id)}-{stamp}.csv"
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # account_view is typed for HttpResponse but hands any response through untouched.
    return cast(HttpResponse, response)


@account_view
@require_GET
def user_export(request: AccountRequest) -> HttpResponse:
    """The users matching the list's filters (or the ticked `id`s among them) as a CSV the bulk import reads."""
    account = request.zoom_account
    form = UserFilterForm(request.GET or None, account=account)
    filters = form.filters()
    filters.ids = selected_ids(request.GET.getlist("id"))
    return _csv_response(changes.users_csv_rows(users_search(account, filters)), "users", account.zoom_id)


def _user_or_404(request: AccountRequest, zoom_user_id: str) -> DirectoryUser | None:
    return DirectoryUser.objects.filter(account=request.zoom_account, zoom_id=zoom_user_id).first()


def _user_context(request: AccountRequest, user: DirectoryUser, **extra: Any) -> dict[str, Any]:
    return {
        **_base_context(request, "users"),
        "user_row": user,
        "groups": changes.user_groups(user),
        "history": audit_for_target(request.zoom_account, AuditTarget.USER, user.zoom_id, limit=HISTORY_LIMIT),
        "refusals": changes.user_refusals(user),
        "licenses": changes.user_licenses(user),
        **extra,
    }


@account_view
@require_GET
def user_detail(request: AccountRequest, zoom_user_id: str) -> HttpResponse:
    """One user, read live from Zoom (the mirror row is refreshed from the answer)."""
    try:
        user = changes.user_refresh(
            account=request.zoom_account, connection=request.zoom_connection, zoom_user_id=zoom_user_id
        )
        stale = ""
    except NotFound:
        raise Http404("Zoom has no such user in this account (it may have been deleted).") from None
    except ZoomError as exc:
        # Zoom is busy or down: the mirror's copy is better than nothing, said as such.
        found = _user_or_404(request, zoom_user_id)
        if found is None:
            return render(
                request,
                "directory/zoom_error.html",
                {**_base_context(request, "users"), "message": exc.message},
                status=503,
            )
        user, stale = found, exc.message
    return render(request, "directory/user_detail.html", _user_context(request, user, stale=stale))


def _edit_initial(user: DirectoryUser) -> dict[str, Any]:
    # The edit form's fields are the bulk import's (imports.engine), filled from the mirror's columns.
    return {name: getattr(user, attr) for name, attr in MIRROR_COLUMNS.items()}


@account_view
@require_http_methods(["GET", "POST"])
def user_edit(request: AccountRequest, zoom_user_id: str) -> HttpResponse:
    """Edit a user in place: htmx swaps the profile card for this form and back; without JS it is a page."""
    user = _user_or_404(request, zoom_user_id)
    if user is None:
        raise Http404("No such user in this account.")
    error = ""
    if request.method == "POST":
        form = UserEditForm(request.POST, initial=_edit_initial(user))
        if form.is_valid():
            try:
                user = changes.user_update(
                    account=request.zoom_account,
                    connection=request.zoom_connection,
                    user=user,
                    values=form.cleaned_data,
                )
            except ZoomError as exc:
                field = changes.field_of_error(exc)
                if field:
                    form.add_error(field, exc.message)
                else:
                    error = exc.message
            else:
                messages.success(request, f"Saved {user.email} in Zoom.")
                if not _fragment(request):
                    return redirect("directory:user", request.zoom_account.zoom_id, user.zoom_id)
                return render(
                    request, "directory/user_detail.html#profile", _user_context(request, user, history_oob=True)
                )
    else:
        form = UserEditForm(initial=_edit_initial(user))
    # A refused save is in the history too (the audit records failures).
    context = {
        **_user_context(request, user, history_oob=request.method == "POST" and _fragment(request)),
        "form": form,
        "error": error,
    }
    template = "directory/user_edit.html#edit_form" if _fragment(request) else "directory/user_edit.html"
    # htmx swaps only 2xx answers: the form with Zoom's reasons must come back as one.
    status = 422 if request.method == "POST" and not _fragment(request) else 200
    return _render(request, template, context, status=status)


@account_view
@require_POST
def user_set_active(request: AccountRequest, zoom_user_id: str) -> HttpResponse:
    """Deactivate (`active=false`) or reactivate (`active=true`) a user."""
    user = _user_or_404(request, zoom_user_id)
    if user is None:
        raise Http404("No such user in this account.")
    active = request.POST.get("active") == "true"
    try:
        user = changes.user_set_active(
            account=request.zoom_account, connection=request.zoom_connection, user=user, active=active
        )
    except ZoomError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{'Reactivated' if active else 'Deactivated'} {user.email}.")
    if _fragment(request):
        return render(request, "directory/user_detail.html#profile", _user_context(request, user, history_oob=True))
    return redirect("directory:user", request.zoom_account.zoom_id, user.zoom_id)


@account_view
@require_http_methods(["GET", "POST"])
def user_delete(request: AccountRequest, zoom_user_id: str) -> HttpResponse:
    """Delete a user from Zoom after the admin types their email."""
    user = _user_or_404(request, zoom_user_id)
    if user is None:
        raise Http404("No such user in this account.")
    form = UserDeleteForm(request.POST or None, email=user.email)
    error = ""
    refusal = changes.user_refusals(user).get("delete", "")
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            changes.user_delete(account=request.zoom_account, connection=request.zoom_connection, user=user)
        except ZoomError as exc:
            error = exc.message
        else:
            messages.success(request, f"Deleted {user.email} from Zoom.")
            return redirect("directory:users", request.zoom_account.zoom_id)
    context = {**_base_context(request, "users"), "user_row": user, "form": form, "error": error, "refusal": refusal}
    status = 422 if request.method == "POST" else 200
    return render(request, "directory/user_delete.html", context, status=status)


@account_view
@require_http_methods(["GET", "POST"])
def user_create(request: AccountRequest) -> HttpResponse:
    """Create a user in Zoom (SCIM-created users are active at once)."""
    form = UserCreateForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = changes.user_create(
                account=request.zoom_account, connection=request.zoom_connection, values=form.cleaned_data
            )
        except ZoomError as exc:
            field = changes.field_of_error(exc, create=True)
            if field:
                form.add_error(field, exc.message)
            else:
                error = exc.message
        else:
            messages.success(request, f"Created {user.email} in Zoom.")
            return redirect("directory:user", request.zoom_account.zoom_id, user.zoom_id)
    context = {**_base_context(request, "users"), "form": form, "error": error}
    return render(request, "directory/user_create.html", context, status=422 if request.method == "POST" else 200)


# ---------------------------------------------------------------------------------------------
# Sync: "Sync now" and the freshness region


@account_view
@require_http_methods(["GET", "POST"])
def sync(request: AccountRequest) -> HttpResponse:
    """GET: the freshness region (polled while a sync runs). POST: start a sync, or join the running one."""
    account = request.zoom_account
    if request.method == "POST":
        run = sync_request(account=account, requested_by=request.user)
        messages.info(request, "Sync started." if run.is_active else "Sync finished.")
        if not _fragment(request):
            return redirect(safe_next(request) or reverse("directory:users", args=[account.zoom_id]))
    freshness = sync_freshness(account=account)
    response = render(request, "directory/_freshness.html", {"account": account, "freshness": freshness})
    if request.GET.get("was") == "running" and freshness.running is None:
        # The lists listen for this and reload, so the admin sees what the sync brought.
        response["HX-Trigger"] = "directory-synced"
    return response


# ---------------------------------------------------------------------------------------------
# Groups


@account_view
@require_GET
def group_list(request: AccountRequest) -> HttpResponse:
    """The account's groups with their member counts, searchable by name."""
    account = request.zoom_account
    q = request.GET.get("q", "").strip()[:200]
    page = Paginator(groups_search(account, q), GROUPS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_base_context(request, "groups"),
        "q": q,
        "page_obj": page,
        "create_form": GroupNameForm(),
        "freshness": None if _fragment(request) else sync_freshness(account=account),
    }
    template = "directory/group_list.html#results" if _fragment(request) else "directory/group_list.html"
    return _render(request, template, context)


@account_view
@require_POST
def group_create(request: AccountRequest) -> HttpResponse:
    """Create a group in Zoom; on success the admin lands on it to add members."""
    form = GroupNameForm(request.POST)
    if form.is_valid():
        try:
            group = changes.group_create(
                account=request.zoom_account, connection=request.zoom_connection, name=form.cleaned_data["name"]
            )
        except ZoomError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Created the group {group.display_name}.")
            return redirect("directory:group", request.zoom_account.zoom_id, group.zoom_id)
    account = request.zoom_account
    page = Paginator(groups_search(account), GROUPS_PAGE_SIZE).get_page(1)
    context = {
        **_base_context(request, "groups"),
        "q": "",
        "page_obj": page,
        "create_form": form,
        "freshness": sync_freshness(account=account),
    }
    return render(request, "directory/group_list.html", context, status=422)


def _group_or_404(request: AccountRequest, zoom_group_id: str) -> DirectoryGroup:
    group = DirectoryGroup.objects.filter(account=request.zoom_account, zoom_id=zoom_group_id).first()
    if group is None:
        raise Http404("No such group in this account.")
    return group


def _group_context(request: AccountRequest, group: DirectoryGroup, **extra: Any) -> dict[str, Any]:
    account = request.zoom_account
    q = request.GET.get("q", "").strip()[:200]
    add_q = request.GET.get("add_q", "").strip()[:200]
    members = users_search(account, UserFilters(q=q, group=group)).only(*LIST_FIELDS)
    candidates = changes.group_candidates(group=group, q=add_q, limit=CANDIDATES_LIMIT) if add_q else []
    return {
        **_base_context(request, "groups"),
        "group": group,
        "q": q,
        "add_q": add_q,
        "members_page": Paginator(members, MEMBERS_PAGE_SIZE).get_page(request.GET.get("page")),
        "candidates": candidates,
        "rename_form": extra.pop("rename_form", None) or GroupNameForm(initial={"name": group.display_name}),
        "history": audit_for_target(account, AuditTarget.GROUP, group.zoom_id, limit=HISTORY_LIMIT),
        "freshness": None if _fragment(request) else sync_freshness(account=account),
        **extra,
    }


@account_view
@require_GET
def group_detail(request: AccountRequest, zoom_group_id: str) -> HttpResponse:
    """A group's members (paginated, searchable) and the search that adds new ones."""
    group = _group_or_404(request, zoom_group_id)
    context = _group_context(request, group)
    template = "directory/group_detail.html"
    if _fragment(request):
        # Two searches on the page, each with its own region.
        template += "#candidates" if _target(request) == "group-candidates" else "#members"
    return _render(request, template, context)


def _group_answer(request: AccountRequest, group: DirectoryGroup) -> HttpResponse:
    """After a membership change: the members region (htmx) or the page again (a redirect)."""
    if _fragment(request):
        group.refresh_from_db()
        return render(request, "directory/group_detail.html#members", _group_context(request, group, history_oob=True))
    return redirect("directory:group", request.zoom_account.zoom_id, group.zoom_id)


@account_view
@require_POST
def group_members_add(request: AccountRequest, zoom_group_id: str) -> HttpResponse:
    """Add the ticked users to the group (one PATCH per ~2,500 members, below Zoom's body limit)."""
    group = _group_or_404(request, zoom_group_id)
    ids = selected_ids(request.POST.getlist("id"))
    if not ids:
        messages.warning(request, "Tick the users to add first.")
        return _group_answer(request, group)
    try:
        added = changes.group_add_members(
            account=request.zoom_account, connection=request.zoom_connection, group=group, user_ids=ids
        )
    except ZoomError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Added {added} {'member' if added == 1 else 'members'} to {group.display_name}.")
    return _group_answer(request, group)


@account_view
@require_POST
def group_members_remove(request: AccountRequest, zoom_group_id: str) -> HttpResponse:
    """Remove the ticked members from the group."""
    group = _group_or_404(request, zoom_group_id)
    ids = selected_ids(request.POST.getlist("id"))
    if not ids:
        messages.warning(request, "Tick the members to remove first.")
        return _group_answer(request, group)
    try:
        removed = changes.group_remove_members(
            account=request.zoom_account, connection=request.zoom_connection, group=group, user_ids=ids
        )
    except ZoomError as exc:
        messages.error(request, exc.message)
    else:
        noun = "member" if removed == 1 else "members"
        messages.success(request, f"Removed {removed} {noun} from {group.display_name}.")
    return _group_answer(request, group)


@account_view
@require_POST
def group_rename(request: AccountRequest, zoom_group_id: str) -> HttpResponse:
    """Give the group a new name in Zoom."""
    group = _group_or_404(request, zoom_group_id)
    form = GroupNameForm(request.POST)
    if form.is_valid():
        try:
            group = changes.group_rename(
                account=request.zoom_account,
                connection=request.zoom_connection,
                group=group,
                name=form.cleaned_data["name"],
            )
        except ZoomError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Renamed the group to {group.display_name}.")
            return redirect("directory:group", request.zoom_account.zoom_id, group.zoom_id)
    context = _group_context(request, group, rename_form=form)
    return render(request, "directory/group_detail.html", context, status=422)


@account_view
@require_http_methods(["GET", "POST"])
def group_delete(request: AccountRequest, zoom_group_id: str) -> HttpResponse:
    """Delete a group after the admin types its name; the account's default group cannot be deleted."""
    group = _group_or_404(request, zoom_group_id)
    form = GroupDeleteForm(request.POST or None, name=group.display_name)
    error = ""
    refusal = changes.DEFAULT_GROUP_REFUSAL if group.is_default else ""
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            changes.group_delete(account=request.zoom_account, connection=request.zoom_connection, group=group)
        except ZoomError as exc:
            error = exc.message
            group.refresh_from_db()
            refusal = changes.DEFAULT_GROUP_REFUSAL if group.is_default else ""
        else:
            messages.success(request, f"Deleted the group {group.display_name}.")
            return redirect("directory:groups", request.zoom_account.zoom_id)
    context = {**_base_context(request, "groups"), "group": group, "form": form, "error": error, "refusal": refusal}
    return render(request, "directory/group_delete.html", context, status=422 if request.method == "POST" else 200)
