"""Who may see what: the one check in front of every account page, and the current connection.

Every page about a Zoom account lives under `/a/<zoom account id>/…` and is wrapped in
`account_view`, which answers 404 unless the signed-in person has a connection to that account
(DESIGN invariant 4): an admin can never tell another account's pages from pages that do not
exist. `tests/test_access.py` walks every URL pattern of the dashboard as an admin of another
account to prove no page escapes it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, cast
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from zoomadmin.accounts.connections import CURRENT_SESSION_KEY, connection_current
from zoomadmin.accounts.models import ZoomAccount, ZoomConnection
from zoomadmin.zoom.errors import Unauthorized

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

_CACHE_ATTR = "_zoomadmin_connection"
# Marks views wrapped by account_view, so the URL walk can tell an unguarded account page.
ACCOUNT_SCOPED_ATTR = "zoomadmin_account_scoped"


class AccountRequest(HttpRequest):
    """The request an account view receives: the signed-in person, the account and their connection to it."""

    htmx: HtmxDetails
    user: User
    zoom_account: ZoomAccount
    zoom_connection: ZoomConnection


def request_connection(request: HttpRequest) -> ZoomConnection | None:
    """The connection the request works on (looked up once per request), or None when signed out.

    On an account page it is the connection to that page's account; elsewhere, the one the
    person last chose in the account switcher.
    """
    if not hasattr(request, _CACHE_ATTR):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        connection = None
        if user is not None and session is not None:
            connection = connection_current(session=session, user=user)
        setattr(request, _CACHE_ATTR, connection)
    cached: ZoomConnection | None = getattr(request, _CACHE_ATTR)
    return cached


def _page_path(request: HttpRequest) -> str:
    """The path of the page the person is on: for an htmx request, the page that sent it, not the partial."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url_abs_path:
        return str(htmx.current_url_abs_path)
    return request.get_full_path()


def _go(request: HttpRequest, url: str) -> HttpResponse:
    # htmx would swap a redirect's target page into the fragment's place: make the browser navigate.
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def signin_redirect(request: HttpRequest) -> HttpResponse:
    """Send the person to the sign-in page, coming back to the page they were on afterwards."""
    return _go(request, f"{reverse('accounts:login')}?{urlencode({'next': _page_path(request)})}")


def account_view[**P](view: Callable[Concatenate[AccountRequest, P], HttpResponse]) -> Callable[..., HttpResponse]:
    """Guard an account page: `zoom_account_id` from the URL must be one the signed-in person is connected to.

    - signed out: redirect to sign-in (htmx: `HX-Redirect`), back here afterwards;
    - no connection of this person to the account (or no such account): 404, the same answer;
    - otherwise the view gets `request.zoom_account` and `request.zoom_connection`, and the
      account becomes the session's current one (the header's account menu follows the URL);
    - when Zoom refuses the connection during the view (`Unauthorized`), the person is sent to
      sign in with Zoom again (htmx: `HX-Redirect`) instead of seeing an error fragment.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, zoom_account_id: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return signin_redirect(request)
        connection = (
            ZoomConnection.objects.select_related("account")
            .filter(user_id=request.user.pk, account__zoom_id=zoom_account_id)
            .first()
        )
        if connection is None:
            raise Http404("No such Zoom account.")
        account_request = cast(AccountRequest, request)
        account_request.zoom_account = connection.account
        account_request.zoom_connection = connection
        setattr(request, _CACHE_ATTR, connection)
        if request.session.get(CURRENT_SESSION_KEY) != connection.pk:
            request.session[CURRENT_SESSION_KEY] = connection.pk
        try:
            return view(account_request, *args, **kwargs)
        except Unauthorized:
            url = reverse("account:reauth", args=[zoom_account_id])
            return _go(request, f"{url}?{urlencode({'next': _page_path(request)})}")

    setattr(wrapped, ACCOUNT_SCOPED_ATTR, True)
    return wrapped


def is_account_scoped(view: Any) -> bool:
    """Whether `view` (a URL pattern's callback) is guarded by `account_view`."""
    return bool(getattr(view, ACCOUNT_SCOPED_ATTR, False))
