"""The sandbox's eleven SCIM2 operations on /scim2/Users and /scim2/Groups.

Each handler runs inside `api_view` (token → rate limit → faults → SSO) with the account taken
from the token, so a token only ever reaches its own account's users and groups. Rate-limit
labels follow the reference (§3.3): List users and List groups are Medium, everything else Light.
A method a route does not serve answers 405 in the SCIM error shape, before any token check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from zoomadmin.sandbox import scim_services as services
from zoomadmin.sandbox.api import (
    LIGHT,
    MAX_BODY_CHARS,
    MEDIUM,
    SCIM_SCOPES,
    ApiContext,
    api_view,
    method_not_allowed,
    read_json_body,
    scim_json,
)
from zoomadmin.sandbox.models import SandboxAccount, SandboxGroup, SandboxUser
from zoomadmin.sandbox.scim_query import GROUP_FILTER_ATTRIBUTES, USER_FILTER_ATTRIBUTES, filter_parse, page_parse
from zoomadmin.sandbox.scim_render import LIST_USER_COLUMNS, group_render, list_render, resource_location, user_render


def _by_method(handlers: dict[str, Callable[..., HttpResponse]]) -> Callable[..., HttpResponse]:
    """One route, several methods; anything else is a SCIM-shaped 405 listing the allowed ones."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            return method_not_allowed(request, handlers)
        return handler(request, **kwargs)

    return view


def _user_answer(
    request: HttpRequest, account: SandboxAccount, user: SandboxUser, *, status: int = 200
) -> HttpResponse:
    # Re-read with its groups: the answer shows the user and memberships as they are now.
    fresh = SandboxUser.objects.get(pk=user.pk)
    groups = services.user_groups_of([fresh]).get(fresh.pk, [])
    return scim_json(user_render(user=fresh, request=request, account=account, full=True, groups=groups), status=status)


def _group_answer(
    request: HttpRequest, account: SandboxAccount, group: SandboxGroup, *, status: int = 200
) -> HttpResponse:
    members: list[tuple[str, str]] | None = None
    if account.group_get_includes_members:
        # Tuples, not model instances: the account's default group lists every user (50,000 in the benchmarks).
        members = list(group.members.order_by("id").values_list("zoom_id", "user_name"))
    return scim_json(group_render(group=group, request=request, members=members), status=status)


# --- users -----------------------------------------------------------------------------------------


@api_view(label=MEDIUM, scopes=SCIM_SCOPES)
def users_list(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """List users: one COUNT, one page query, one query for the page's groups."""
    raw_filter = request.GET.get("filter")
    scim_filter = filter_parse(raw=raw_filter, allowed=USER_FILTER_ATTRIBUTES) if raw_filter is not None else None
    page = page_parse(params=request.GET, account=ctx.account)
    users = services.users_query(account=ctx.account, scim_filter=scim_filter)
    total = users.count()
    resources: list[dict[str, Any]] = []
    if page.count and page.offset < total:
        # Only the columns List users shows (its projection has no license block or phone numbers).
        window = list(users.only(*LIST_USER_COLUMNS)[page.offset : page.offset + page.count])
        groups = services.user_groups_of(window)
        resources = [
            user_render(user=user, request=request, account=ctx.account, full=False, groups=groups.get(user.pk, []))
            for user in window
        ]
    return scim_json(list_render(total=total, start_index=page.start_index, resources=resources))


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def user_create(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    user = services.user_create(account=ctx.account, data=read_json_body(request))
    # A new user is in no group yet, and every stored value is on the instance: no re-read.
    body = user_render(user=user, request=request, account=ctx.account, full=True, groups=[])
    response = scim_json(body, status=201)
    response["Location"] = resource_location(request=request, kind="Users", resource_id=user.zoom_id)
    return response


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def user_get(request: HttpRequest, ctx: ApiContext, user_id: str) -> HttpResponse:
    user = services.user_lookup(account=ctx.account, user_id=user_id)
    return _user_answer(request, ctx.account, user)


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def user_update(request: HttpRequest, ctx: ApiContext, user_id: str) -> HttpResponse:
    # The id is checked before the body, so an unknown user is a 404 whatever was sent.
    user = services.user_lookup(account=ctx.account, user_id=user_id)
    services.user_update(account=ctx.account, user=user, data=read_json_body(request))
    return _user_answer(request, ctx.account, user)


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def user_patch(request: HttpRequest, ctx: ApiContext, user_id: str) -> HttpResponse:
    user = services.user_lookup(account=ctx.account, user_id=user_id)
    services.user_patch(account=ctx.account, user=user, data=read_json_body(request))
    return _user_answer(request, ctx.account, user)


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def user_delete(request: HttpRequest, ctx: ApiContext, user_id: str) -> HttpResponse:
    services.user_delete(account=ctx.account, user=services.user_lookup(account=ctx.account, user_id=user_id))
    return HttpResponse(status=204)


# --- groups ----------------------------------------------------------------------------------------


@api_view(label=MEDIUM, scopes=SCIM_SCOPES)
def groups_list(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    """List groups (never with members): one COUNT and one page query."""
    raw_filter = request.GET.get("filter")
    scim_filter = filter_parse(raw=raw_filter, allowed=GROUP_FILTER_ATTRIBUTES) if raw_filter is not None else None
    page = page_parse(params=request.GET, account=ctx.account)
    groups = services.groups_query(account=ctx.account, scim_filter=scim_filter)
    total = groups.count()
    resources: list[dict[str, Any]] = []
    if page.count and page.offset < total:
        window = groups[page.offset : page.offset + page.count]
        resources = [group_render(group=group, request=request) for group in window]
    return scim_json(list_render(total=total, start_index=page.start_index, resources=resources))


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def group_create(request: HttpRequest, ctx: ApiContext) -> HttpResponse:
    group = services.group_create(account=ctx.account, data=read_json_body(request))
    response = _group_answer(request, ctx.account, group, status=201)
    response["Location"] = resource_location(request=request, kind="Groups", resource_id=group.zoom_id)
    return response


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def group_get(request: HttpRequest, ctx: ApiContext, group_id: str) -> HttpResponse:
    group = services.group_lookup(account=ctx.account, group_id=group_id)
    return _group_answer(request, ctx.account, group)


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def group_patch(request: HttpRequest, ctx: ApiContext, group_id: str) -> HttpResponse:
    group = services.group_lookup(account=ctx.account, group_id=group_id)
    services.group_patch(account=ctx.account, group=group, data=read_json_body(request, limit=MAX_BODY_CHARS))
    return HttpResponse(status=204)


@api_view(label=LIGHT, scopes=SCIM_SCOPES)
def group_delete(request: HttpRequest, ctx: ApiContext, group_id: str) -> HttpResponse:
    services.group_delete(group=services.group_lookup(account=ctx.account, group_id=group_id))
    return HttpResponse(status=204)


users = _by_method({"GET": users_list, "POST": user_create})
user_detail = _by_method({"GET": user_get, "PUT": user_update, "PATCH": user_patch, "DELETE": user_delete})
groups = _by_method({"GET": groups_list, "POST": group_create})
group_detail = _by_method({"GET": group_get, "PATCH": group_patch, "DELETE": group_delete})
