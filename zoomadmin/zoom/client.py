"""The one client that speaks Zoom's SCIM2 API (and `GET /v2/users/me`).

Every call: a slot from the shared rate limiter (per Zoom account and rate-limit label) → a bearer
token from the caller's `TokenSource` → the HTTP request with explicit timeouts. A 401 "invalid
access token" gets one refresh and one retry; everything else that is not a success comes back as
one of the exceptions in `zoomadmin.zoom.errors`, never as a raw response. A write (POST, PUT,
PATCH, DELETE) that may have reached Zoom without a readable answer raises `OutcomeUnknown`, never
the retryable `Unavailable`: sending it again could make the change twice. Payloads are the
scim2-models models of `zoomadmin.zoom.models`.

Written against Zoom's reference; the core operations also work against an RFC 7644 server
(string `status`, missing `Resources`, 200-with-body or 204 on PATCH, complex `manager`).
"""

from __future__ import annotations

import email.utils
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import quote

import httpx2
import pydantic
from scim2_models import Context, ListResponse, PatchOp

from zoomadmin.zoom import filters
from zoomadmin.zoom.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    OutcomeReason,
    OutcomeUnknown,
    RateLimited,
    Unauthorized,
    Unavailable,
    ZoomError,
    wait_in_words,
)
from zoomadmin.zoom.models import (
    ZoomGroup,
    ZoomGroupExtension,
    ZoomMe,
    ZoomUser,
    error_parse,
    group_list_parse,
    group_parse,
    user_list_parse,
    user_parse,
    user_payload,
)
from zoomadmin.zoom.plans import LIGHT, MEDIUM
from zoomadmin.zoom.ratelimit import RateLimiter
from zoomadmin.zoom.transport import default_timeout, default_transport, json_object, user_agent

logger = logging.getLogger(__name__)

# Rate-limit labels: zoom-oauth-ratelimits.md §3.3; the unconfirmed single-resource ops count as Light.
SCIM_MEDIA_TYPE = "application/scim+json"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# Zoom's gateway codes on 401: 124 = invalid/expired token (refreshable), 4711 = missing scope (not).
CODE_INVALID_TOKEN = 124
CODE_MISSING_SCOPE = 4711
# When Zoom says 429 without saying for how long.
DEFAULT_RETRY_AFTER = 1.0
# Zoom's longest limit is daily (reset at 00:00 UTC): a longer wait is a broken header, and obeying
# it would block the account's shared bucket, in every process, for that long.
MAX_RETRY_AFTER = 86_400.0
# Zoom's error text goes into messages, logs and the audit trail: a runaway body must not.
MAX_DETAIL_CHARS = 500
# What an admin reads when Zoom's answer to a read cannot be decoded or parsed.
UNREADABLE = "Zoom answered with data zoomadmin cannot read. Try again; if it persists, report it."
# Requests that change something in Zoom: their failures are sorted by whether Zoom may have acted.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Failures that happen before a single byte of the request leaves this machine (no connection, no
# pooled connection, no proxy tunnel, a URL we cannot speak to). Every other transport failure of a
# write (read/write timeout, connection dropped or garbled after sending) may follow a request that
# Zoom received in full; only these are safe to send again.
NEVER_SENT: tuple[type[httpx2.TransportError], ...] = (
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
    httpx2.ConnectError,
    httpx2.ProxyError,
    httpx2.UnsupportedProtocol,
)


class TokenSource(Protocol):
    """Where the client gets bearer tokens (the accounts app implements it per Zoom connection)."""

    def access_token(self) -> str:
        """A current access token."""
        ...

    def refreshed_access_token(self, rejected: str) -> str:
        """A new access token after Zoom rejected `rejected`; raises `Unauthorized` if none can be had."""
        ...


class ZoomClient:
    """A synchronous client of one Zoom account's SCIM2 API.

    `wait_for_slot`: background jobs wait for a rate-limit slot; web requests fail fast with
    `RateLimited` so a page never hangs behind a bulk import.
    """

    def __init__(
        self,
        *,
        api_base_url: str,
        account_id: str,
        plan: str,
        tokens: TokenSource,
        limiter: RateLimiter,
        wait_for_slot: bool,
        transport: httpx2.BaseTransport | None = None,
        timeout: float | httpx2.Timeout | None = None,
        scim_base_url: str | None = None,
    ) -> None:
        self._api_base_url = api_base_url.rstrip("/")
        # Zoom serves SCIM under /scim2 of the API host; another SCIM server names its own root.
        self._scim_base_url = (scim_base_url or f"{self._api_base_url}/scim2").rstrip("/")
        self.account_id = account_id
        self.plan = plan
        self._tokens = tokens
        self._limiter = limiter
        self._wait_for_slot = wait_for_slot
        if not isinstance(timeout, httpx2.Timeout):
            timeout = default_timeout(timeout)
        self._http = httpx2.Client(
            transport=transport if transport is not None else default_transport(),
            timeout=timeout,
            headers={"Accept": SCIM_MEDIA_TYPE, "User-Agent": user_agent()},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------
    # Users

    # Zoom: https://developers.zoom.us/docs/api/users/#tag/users/GET/users/{userId} (userId = "me")
    def me(self) -> ZoomMe:
        """The Zoom user who authorized the token, with their account id and role."""
        response = self._request(
            "GET", f"{self._api_base_url}/v2/users/me", label=LIGHT, headers={"Accept": "application/json"}
        )
        return self._parse(ZoomMe.model_validate, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/GET/scim2/Users
    def list_users(self, start_index: int = 1, count: int = 100, filter: str | None = None) -> ListResponse[ZoomUser]:
        """One page of users (1-based `start_index`). Zoom leaves the license extension out of lists."""
        response = self._request(
            "GET", f"{self._scim_base_url}/Users", label=MEDIUM, params=_list_params(start_index, count, filter)
        )
        return self._parse(user_list_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/GET/scim2/Users
    def list_users_raw(self, start_index: int = 1, count: int = 100, filter: str | None = None) -> dict[str, Any]:
        """One page of users as Zoom's JSON object, unparsed: for the directory sync's fast parser
        (`zoomadmin.directory.fastparse`), which reads a page far faster than the scim2-models."""
        response = self._request(
            "GET", f"{self._scim_base_url}/Users", label=MEDIUM, params=_list_params(start_index, count, filter)
        )
        return self._parse(_json_object_strict, response)

    def iter_users(self, filter: str | None = None, page_size: int = 100) -> Iterator[ZoomUser]:
        """Every user matching `filter`, page by page (see `_walk` for how paging ends)."""
        return _walk(lambda start: self.list_users(start, page_size, filter))

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/GET/scim2/Users/{userId}
    def get_user(self, id: str) -> ZoomUser:
        """One user with the full profile (license flags included)."""
        response = self._request("GET", f"{self._scim_base_url}/Users/{_segment(id)}", label=LIGHT)
        return self._parse(user_parse, response)

    def find_user_by_email(self, email: str) -> ZoomUser | None:
        """The user signing in with `email`, or None.

        Zoom answers 400 (`Invalid`, "User … not exist or not belong to this account.") for an
        invited user who has not accepted yet.
        """
        page = self.list_users(1, 1, filters.eq("userName", email))
        wanted = email.casefold()
        return next((user for user in page.resources or [] if user.email.casefold() == wanted), None)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/POST/scim2/Users
    def create_user(self, user: ZoomUser) -> ZoomUser:
        """Create `user` (build it with `models.user_build`); Zoom activates SCIM-created users at once."""
        response = self._request("POST", f"{self._scim_base_url}/Users", label=LIGHT, json=user_payload(user))
        return self._parse(user_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/PUT/scim2/Users/{userId}
    def update_user(self, id: str, changes: ZoomUser) -> ZoomUser:
        """Change the attributes set on `changes`; Zoom's PUT is partial, the rest stays as it is."""
        body = user_payload(changes, context=Context.RESOURCE_REPLACEMENT_REQUEST)
        response = self._request("PUT", f"{self._scim_base_url}/Users/{_segment(id)}", label=LIGHT, json=body)
        if response.status_code == httpx2.codes.NO_CONTENT:
            return self.get_user(id)
        return self._parse(user_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/PATCH/scim2/Users/{userId}
    def set_user_active(self, id: str, active: bool) -> ZoomUser:
        """Activate or deactivate a user. Zoom refuses to deactivate an Owner or Admin (`Invalid`)."""
        body = _patch_body(ZoomUser, [{"op": "replace", "path": "active", "value": active}])
        response = self._request("PATCH", f"{self._scim_base_url}/Users/{_segment(id)}", label=LIGHT, json=body)
        if response.status_code == httpx2.codes.NO_CONTENT:
            # An RFC 7644 server may answer 204; Zoom answers 200 with the user.
            return self.get_user(id)
        return self._parse(user_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/User/DELETE/scim2/Users/{userId}
    def delete_user(self, id: str) -> None:
        """Delete a user from the account."""
        self._request("DELETE", f"{self._scim_base_url}/Users/{_segment(id)}", label=LIGHT)

    # ----------------------------------------------------------------------------------------
    # Groups

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/GET/scim2/Groups
    def list_groups(
        self,
        start_index: int = 1,
        count: int = 100,
        filter: str | None = None,
    ) -> ListResponse[ZoomGroup]:
        """One page of groups (1-based `start_index`)."""
        response = self._request(
            "GET", f"{self._scim_base_url}/Groups", label=MEDIUM, params=_list_params(start_index, count, filter)
        )
        return self._parse(group_list_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/GET/scim2/Groups
    def list_groups_raw(self, start_index: int = 1, count: int = 100, filter: str | None = None) -> dict[str, Any]:
        """One page of groups as Zoom's JSON object, unparsed (see `list_users_raw`)."""
        response = self._request(
            "GET", f"{self._scim_base_url}/Groups", label=MEDIUM, params=_list_params(start_index, count, filter)
        )
        return self._parse(_json_object_strict, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/GET/scim2/Groups/{groupId}
    def get_group_raw(self, id: str) -> dict[str, Any]:
        """One group as Zoom's JSON object, unparsed (its `members` can be tens of thousands long)."""
        response = self._request("GET", f"{self._scim_base_url}/Groups/{_segment(id)}", label=LIGHT)
        return self._parse(_json_object_strict, response)

    def iter_groups(self, filter: str | None = None, page_size: int = 100) -> Iterator[ZoomGroup]:
        """Every group matching `filter`, page by page."""
        return _walk(lambda start: self.list_groups(start, page_size, filter))

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/GET/scim2/Groups/{groupId}
    def get_group(self, id: str) -> ZoomGroup:
        """One group (with `members` where the server returns them; Zoom's docs do not promise it)."""
        response = self._request("GET", f"{self._scim_base_url}/Groups/{_segment(id)}", label=LIGHT)
        return self._parse(group_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/POST/scim2/Groups
    def create_group(self, display_name: str, email_alias: str | None = None) -> ZoomGroup:
        """Create a group; Zoom answers 409 (`Conflict`) when the name is taken."""
        group = ZoomGroup(display_name=display_name)
        if email_alias:
            group[ZoomGroupExtension] = ZoomGroupExtension(email_alias=email_alias)
        body = group.model_dump(scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        response = self._request("POST", f"{self._scim_base_url}/Groups", label=LIGHT, json=body)
        return self._parse(group_parse, response)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/PATCH/scim2/Groups/{groupId}
    def rename_group(self, group_id: str, display_name: str) -> None:
        """Give a group a new name."""
        self._patch_group(group_id, [{"op": "replace", "path": "displayName", "value": display_name}])

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/PATCH/scim2/Groups/{groupId}
    def add_group_members(self, group_id: str, user_ids: Sequence[str]) -> None:
        """Add users to a group (one request for all of them)."""
        if not user_ids:
            return
        members = [{"value": user_id} for user_id in user_ids]
        self._patch_group(group_id, [{"op": "add", "path": "members", "value": members}])

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/PATCH/scim2/Groups/{groupId}
    def remove_group_members(self, group_id: str, user_ids: Sequence[str]) -> None:
        """Remove users from a group, one `members[value eq "<id>"]` operation per user."""
        if not user_ids:
            return
        operations = [{"op": "remove", "path": f"members[value eq {filters.quote(user_id)}]"} for user_id in user_ids]
        self._patch_group(group_id, operations)

    # Zoom: https://developers.zoom.us/docs/api/scim2/#tag/Group/DELETE/scim2/Groups/{groupId}
    def delete_group(self, id: str) -> None:
        """Delete a group; Zoom refuses the account's default group (`Invalid`)."""
        self._request("DELETE", f"{self._scim_base_url}/Groups/{_segment(id)}", label=LIGHT)

    def _patch_group(self, group_id: str, operations: list[dict[str, Any]]) -> None:
        # Zoom answers 204; a conformant server may answer 200 with the group, which we do not need.
        body = _patch_body(ZoomGroup, operations)
        self._request("PATCH", f"{self._scim_base_url}/Groups/{_segment(group_id)}", label=LIGHT, json=body)

    # ----------------------------------------------------------------------------------------
    # The request pipeline

    def _request(
        self,
        method: str,
        path: str,
        *,
        label: str,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        token = self._tokens.access_token()
        response = self._send(method, path, label=label, token=token, params=params, json=json, headers=headers)
        if response.status_code == httpx2.codes.UNAUTHORIZED and _gateway_code(response) != CODE_MISSING_SCOPE:
            # Expired or superseded token: refresh once (single-flight in the token source), retry once.
            # Safe for writes too: Zoom answered 401, so it refused the request without acting on it.
            # A first attempt without an answer raised in `_send` and never gets here.
            token = self._tokens.refreshed_access_token(token)
            response = self._send(method, path, label=label, token=token, params=params, json=json, headers=headers)
        if response.is_success:
            return response
        raise self._error(method, path, label, response)

    def _send(
        self,
        method: str,
        path: str,
        *,
        label: str,
        token: str,
        params: dict[str, str | int] | None,
        json: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> httpx2.Response:
        request_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        # Built before the slot is taken, so the request leaves as soon as it has one: the time
        # between our grant and Zoom's count is what the limiter's margin must cover.
        request = self._http.build_request(method, path, params=params, json=json, headers=request_headers)
        # Every request, retries included, takes a slot: nothing bypasses the limiter.
        self._limiter.acquire(account_id=self.account_id, plan=self.plan, label=label, wait=self._wait_for_slot)
        try:
            return self._http.send(request)
        except (httpx2.TransportError, httpx2.DecodingError) as exc:
            raise _failure(method, path, exc) from None

    def _error(self, method: str, path: str, label: str, response: httpx2.Response) -> ZoomError:
        status = response.status_code
        detail = _detail(response)
        logger.info("Zoom answered %s to %s %s: %s", status, method, path, detail)
        if status == httpx2.codes.TOO_MANY_REQUESTS:
            header_wait = retry_after_seconds(response.headers)
            self._limiter.penalize(account_id=self.account_id, plan=self.plan, label=label, retry_after=header_wait)
            wait = DEFAULT_RETRY_AFTER if header_wait is None else header_wait
            return RateLimited(
                f"Zoom's rate limit for this account is used up; try again in {wait_in_words(wait)}.",
                retry_after=wait,
                detail=detail,
            )
        if status == httpx2.codes.UNAUTHORIZED:
            if _gateway_code(response) == CODE_MISSING_SCOPE:
                return Forbidden(
                    "The Zoom app is not allowed to do this (a scope is missing). "
                    "Ask the Zoom app's owner to add the scope, then sign in with Zoom again.",
                    detail=detail,
                    status=status,
                )
            return Unauthorized(detail=detail, status=status)
        if status == httpx2.codes.FORBIDDEN:
            return Forbidden(
                f"Your Zoom role does not allow this action. Zoom said: {detail}" if detail else None,
                detail=detail,
                status=status,
            )
        if status == httpx2.codes.NOT_FOUND:
            return NotFound(
                f"Zoom has no such user or group (it may have been deleted). Zoom said: {detail}" if detail else None,
                detail=detail,
                status=status,
            )
        if status == httpx2.codes.CONFLICT:
            return Conflict(
                f"Zoom refused the change because it conflicts with existing data. Zoom said: {detail}"
                if detail
                else None,
                detail=detail,
                status=status,
            )
        if status == httpx2.codes.GATEWAY_TIMEOUT and method in WRITE_METHODS:
            # Zoom's gateway gave up waiting for the service behind it, which may still apply the change.
            return OutcomeUnknown(method=method, path=_url_path(path), reason="timeout", detail=detail, status=status)
        if status >= httpx2.codes.INTERNAL_SERVER_ERROR:
            return Unavailable(
                f"Zoom failed with a server error ({status}). Try again in a few minutes.", detail=detail, status=status
            )
        return Invalid(
            f"Zoom rejected the request: {detail}" if detail else None,
            detail=detail,
            status=status,
        )

    def _parse[T](self, parse: Callable[[Any], T], response: httpx2.Response) -> T:
        # A success whose body we cannot read is Zoom misbehaving, not the admin's mistake. To a
        # write it still says Zoom accepted something, but not what: the outcome is unknown.
        try:
            result = parse(response.json())
        except (ValueError, pydantic.ValidationError) as exc:
            request = response.request
            logger.warning("Unreadable Zoom answer to %s %s: %s", request.method, request.url.path, exc)
            if request.method in WRITE_METHODS:
                raise OutcomeUnknown(
                    method=request.method,
                    path=request.url.path,
                    reason="unreadable",
                    detail=str(exc)[:MAX_DETAIL_CHARS],
                    status=response.status_code,
                ) from None
            raise Unavailable(
                UNREADABLE,
                detail=str(exc)[:MAX_DETAIL_CHARS],
                status=response.status_code,
            ) from None
        return result


def _failure(method: str, url: str, exc: httpx2.TransportError | httpx2.DecodingError) -> ZoomError:
    """The exception for a request that got no usable answer: retryable unless a write may have landed."""
    kind = type(exc).__name__
    if method in WRITE_METHODS and not isinstance(exc, NEVER_SENT):
        reason: OutcomeReason = (
            "timeout"
            if isinstance(exc, httpx2.TimeoutException)
            else "unreadable"
            if isinstance(exc, httpx2.DecodingError)
            else "disconnected"
        )
        logger.warning("Zoom's answer to %s %s was lost (%s): outcome unknown", method, url, kind)
        return OutcomeUnknown(method=method, path=_url_path(url), reason=reason, detail=kind)
    if isinstance(exc, httpx2.TimeoutException):
        logger.warning("Zoom timed out: %s %s (%s)", method, url, kind)
        return Unavailable("Zoom did not answer in time. Try again in a few minutes.", detail=kind)
    if isinstance(exc, httpx2.DecodingError):
        logger.warning("Undecodable Zoom answer to %s %s (%s)", method, url, kind)
        return Unavailable(UNREADABLE, detail=kind)
    logger.warning("Zoom unreachable: %s %s (%s)", method, url, kind)
    return Unavailable("Zoom cannot be reached right now. Check the network, then try again.", detail=kind)


def _json_object_strict(data: Any) -> dict[str, Any]:
    """A raw answer that must be a JSON object; anything else is unreadable (ValueError)."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _url_path(url: str) -> str:
    """The path of a request URL, as `OutcomeUnknown` reports it (no host, no query)."""
    return httpx2.URL(url).path


def _list_params(start_index: int, count: int, filter: str | None) -> dict[str, str | int]:
    params: dict[str, str | int] = {"startIndex": start_index, "count": count}
    if filter:
        params["filter"] = filter
    return params


def _walk[R: (ZoomUser, ZoomGroup)](fetch: Callable[[int], ListResponse[R]]) -> Iterator[R]:
    """Walk `fetch(start_index)` pages until an empty page or `totalResults` is reached.

    Steps by the number of resources actually returned, so a server that ignores `count` is
    walked correctly; a server that ignores `startIndex` (returns nothing new) ends the walk
    instead of looping; resources seen twice (shifted by a concurrent delete) are yielded once.
    """
    start = 1
    seen: set[str] = set()
    while True:
        page = fetch(start)
        resources = page.resources or []
        fresh = [resource for resource in resources if not resource.id or resource.id not in seen]
        if not fresh:
            return
        for resource in fresh:
            if resource.id:
                seen.add(resource.id)
            yield resource
        start += len(resources)
        if page.total_results is not None and start > page.total_results:
            return


def _segment(resource_id: str) -> str:
    """An id as one URL path segment: Zoom ids may contain `&` (and anything else)."""
    if not resource_id:
        raise ValueError("A Zoom id is required.")
    return quote(resource_id, safe="")


def _patch_body(resource: type[ZoomUser | ZoomGroup], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """A PatchOp body, checked by scim2-models against `resource` (every path must name a real attribute).

    It dumps the operations under `Operations`, the exact spelling Zoom requires.
    """
    patch = PatchOp[resource].model_validate(  # type: ignore[valid-type]
        {"schemas": [PATCH_OP_SCHEMA], "Operations": operations}, scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    return patch.model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)


def _gateway_code(response: httpx2.Response) -> int | None:
    """Zoom's gateway error `code` (`{"code": 124, "message": ...}`), if the body has one."""
    code = json_object(response).get("code")
    return code if isinstance(code, int) else None


def _detail(response: httpx2.Response) -> str:
    """What Zoom said, from a SCIM Error body (`detail`) or a gateway body (`message`)."""
    data = json_object(response)
    if "detail" in data:
        try:
            return (error_parse(data).detail or "")[:MAX_DETAIL_CHARS]
        except pydantic.ValidationError:
            return str(data.get("detail") or "")[:MAX_DETAIL_CHARS]
    message = data.get("message") or data.get("reason") or ""
    return str(message)[:MAX_DETAIL_CHARS]


def retry_after_seconds(headers: httpx2.Headers, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a 429's headers, or None when they do not say.

    `Retry-After` may hold seconds, an ISO-8601 time (Zoom's daily limit: `2025-01-20T00:00:00Z`)
    or an HTTP date; `X-RateLimit-Reset` a Unix time. A time in the past means "now" (0 s); a wait
    is never longer than a day (`MAX_RETRY_AFTER`); a non-finite number ("inf") gives None.
    """
    now = now or datetime.now(tz=UTC)
    value = headers.get("Retry-After", "").strip()
    if value:
        try:
            return _bounded(float(value))
        except ValueError:
            pass
        moment = _parse_time(value)
        if moment is not None:
            return _bounded((moment - now).total_seconds())
    reset = headers.get("X-RateLimit-Reset", "").strip()
    if reset:
        try:
            return _bounded(float(reset) - now.timestamp())
        except ValueError:
            moment = _parse_time(reset)
            if moment is not None:
                return _bounded((moment - now).total_seconds())
    return None


def _bounded(seconds: float) -> float | None:
    # "inf"/"nan" parse as floats but cannot be waited for (round(inf) raises OverflowError).
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
