"""Sign-in with Zoom, the home page and the Zoom connections of the signed-in admin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zoomadmin.accounts import services
from zoomadmin.accounts.access import request_connection
from zoomadmin.accounts.forms import AccountNameForm, SwitchForm
from zoomadmin.accounts.models import ZoomConnection

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _redirect_uri(request: HttpRequest) -> str:
    # Must match a redirect URI registered for the Zoom app exactly (scheme, host, port, path).
    return request.build_absolute_uri(reverse("accounts:callback"))


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:home")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Signed out: the landing page. Signed in: the current account and the linked connections."""
    connection = request_connection(request) if request.user.is_authenticated else None
    connections = services.connections_of(request.user) if request.user.is_authenticated else []
    return render(
        request,
        "accounts/home.html",
        {"connection": connection, "connections": connections, "rename_form": AccountNameForm()},
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """GET: the sign-in page. POST (CSRF-checked, it writes the session): off to Zoom's consent page."""
    if request.method == "POST":
        url = services.signin_start(session=request.session, purpose="login", redirect_uri=_redirect_uri(request))
        return redirect(url)
    return render(request, "accounts/login.html")


@login_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    """Link another Zoom account (or sign in again to one) to the signed-in person (POST starts it)."""
    if request.method == "POST":
        url = services.signin_start(session=request.session, purpose="link", redirect_uri=_redirect_uri(request))
        return redirect(url)
    return render(request, "accounts/link.html")


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Where Zoom sends the browser back: finish the sign-in or explain why it cannot be."""
    try:
        result = services.signin_complete(
            session=request.session,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
            redirect_uri=_redirect_uri(request),
        )
        person = request.user if result.purpose == "link" and isinstance(request.user, User) else None
        connection = services.connection_store(result=result, user=person)
    except services.SignInError as exc:
        return render(request, "accounts/signin_error.html", {"error": exc}, status=exc.status)
    if person is not None:
        messages.success(request, f"Linked {connection.zoom_account_name} as {connection.zoom_email}.")
    else:
        # login() rotates the session key (and flushes the session of any other person signed in before).
        login(request, connection.user, backend=_MODEL_BACKEND)
        messages.success(request, f"Signed in as {connection.zoom_email}.")
    request.session[services.CURRENT_SESSION_KEY] = connection.pk
    return redirect("accounts:home")


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Work on another of the person's own Zoom connections."""
    form = SwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("No such connection.")
    try:
        connection = services.connection_switch(
            session=request.session, user=request.user, connection_id=form.cleaned_data["connection"]
        )
    except ZoomConnection.DoesNotExist as exc:
        raise Http404("No such connection.") from exc
    messages.success(request, f"Now working on {connection.zoom_account_name}.")
    return redirect(_safe_next(request))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out of the dashboard (the Zoom connections stay linked for next time)."""
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:home")


@login_required
@require_POST
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a connection's token at Zoom and forget it; sign out when it was the last one."""
    connection = get_object_or_404(ZoomConnection, pk=pk, user_id=request.user.pk)
    name = connection.zoom_account_name
    outcome = services.connection_disconnect(session=request.session, connection=connection)
    if outcome.next_connection is None:
        logout(request)
        messages.info(request, f"Disconnected {name}. It was your last Zoom account, so you are signed out.")
    else:
        messages.success(request, f"Disconnected {name}.")
    if not outcome.revoked_at_zoom:
        messages.warning(
            request,
            f"Zoom could not be reached to revoke zoomadmin's access to {name}; "
            "remove the app in Zoom's App Marketplace (Manage → Added apps) to be sure.",
        )
    return redirect("accounts:home")


@login_required
@require_POST
def rename(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the connection's Zoom account (Zoom's API does not tell us its name)."""
    connection = get_object_or_404(ZoomConnection, pk=pk, user_id=request.user.pk)
    form = AccountNameForm(request.POST)
    if form.is_valid():
        services.connection_rename(connection=connection, name=form.cleaned_data["name"])
        messages.success(request, f"Renamed the account to {connection.zoom_account_name}.")
    else:
        messages.error(request, "The account name must be 1 to 200 characters.")
    return redirect("accounts:home")
