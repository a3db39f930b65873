"""Sign-in with Zoom, the person's Zoom connections, and the account pages that belong to accounts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zoomadmin.accounts import connections, signin
from zoomadmin.accounts.access import AccountRequest, account_view, request_connection
from zoomadmin.accounts.forms import AccountSettingsForm, SwitchForm
from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.accounts.overview import overview_collect

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _redirect_uri(request: HttpRequest) -> str:
    # Must match a redirect URI registered for the Zoom app exactly (scheme, host, port, path).
    return request.build_absolute_uri(reverse("accounts:callback"))


def safe_next(request: HttpRequest, target: str | None = None) -> str:
    """`next` from the form or query (or `target`) if it is a path on this site; else empty."""
    if target is None:
        target = request.POST.get("next") or request.GET.get("next") or ""
    # Local paths only: "//evil.example" and "https://…" are refused even for our own host.
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None, require_https=False)
    ):
        return target
    return ""


def _landing(connection: ZoomConnection | None) -> str:
    if connection is None:
        return reverse("accounts:connections")
    return reverse("account:overview", args=[connection.account.zoom_id])


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Signed out: the landing page. Signed in: the current account's overview."""
    if request.user.is_authenticated:
        return redirect(_landing(request_connection(request)))
    return render(request, "accounts/home.html")


@login_required
@require_GET
def connection_list(request: HttpRequest) -> HttpResponse:
    """The person's linked Zoom accounts: switch, disconnect, link another."""
    return render(
        request,
        "accounts/connections.html",
        {"connection": request_connection(request), "connections": connections.connections_of(request.user)},
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """GET: the sign-in page. POST (CSRF-checked, it writes the session): off to Zoom's consent page."""
    next_path = safe_next(request)
    if request.method == "POST":
        url = signin.signin_start(
            session=request.session, purpose="login", redirect_uri=_redirect_uri(request), next_path=next_path
        )
        return redirect(url)
    if request.user.is_authenticated and next_path:
        return redirect(next_path)
    return render(request, "accounts/login.html", {"next": next_path})


@login_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    """Link another Zoom account (or sign in again to one) to the signed-in person (POST starts it)."""
    next_path = safe_next(request)
    if request.method == "POST":
        url = signin.signin_start(
            session=request.session, purpose="link", redirect_uri=_redirect_uri(request), next_path=next_path
        )
        return redirect(url)
    return render(request, "accounts/link.html", {"next": next_path})


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Where Zoom sends the browser back: finish the sign-in or explain why it cannot be."""
    if not request.session.get(signin.FLOWS_SESSION_KEY):
        # No sign-in was started in this browser: answer without creating a session for a stranger.
        error = signin.SignInStateMismatch(signin.STATE_MISMATCH_MESSAGE)
        return render(request, "accounts/signin_error.html", {"error": error}, status=error.status)
    try:
        result = signin.signin_complete(
            session=request.session,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
            redirect_uri=_redirect_uri(request),
        )
        person = request.user if result.purpose == "link" and isinstance(request.user, User) else None
        connection = signin.connection_store(result=result, user=person)
    except signin.SignInError as exc:
        return render(request, "accounts/signin_error.html", {"error": exc}, status=exc.status)
    if person is not None:
        messages.success(request, f"Linked {connection.account.name} as {connection.zoom_email}.")
    else:
        # login() rotates the session key (and flushes the session of any other person signed in before).
        login(request, connection.user, backend=_MODEL_BACKEND)
        messages.success(request, f"Signed in as {connection.zoom_email}.")
    request.session[connections.CURRENT_SESSION_KEY] = connection.pk
    return redirect(safe_next(request, result.next_path) or _landing(connection))


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Work on another of the person's own Zoom connections."""
    form = SwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("No such connection.")
    try:
        connection = connections.connection_switch(
            session=request.session, user=request.user, connection_id=form.cleaned_data["connection"]
        )
    except ZoomConnection.DoesNotExist as exc:
        raise Http404("No such connection.") from exc
    messages.success(request, f"Now working on {connection.account.name}.")
    return redirect(_landing(connection))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out of the dashboard (the Zoom connections stay linked for next time)."""
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:home")


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what disconnecting does, and a confirm button. POST: revoke at Zoom and forget the connection."""
    connection = get_object_or_404(ZoomConnection.objects.select_related("account"), pk=pk, user_id=request.user.pk)
    if request.method == "GET":
        others = ZoomConnection.objects.filter(user_id=connection.user_id).exclude(pk=pk).count()
        return render(request, "accounts/disconnect.html", {"connection": connection, "connections_left": others})
    name = connection.account.name
    outcome = connections.connection_disconnect(session=request.session, connection=connection)
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
    return redirect("accounts:home" if outcome.next_connection is None else "accounts:connections")


@account_view
@require_GET
def overview(request: AccountRequest) -> HttpResponse:
    """The landing page of an account: users, groups and licenses, sync, recent changes and jobs,
    rate-limit headroom, and who administers it here. htmx (after a sync ends) gets the content only."""
    context = {"account": request.zoom_account, "overview": overview_collect(account=request.zoom_account)}
    htmx = request.htmx
    fragment = bool(htmx) and not htmx.boosted and not htmx.history_restore_request
    response = render(request, "accounts/overview.html#overview" if fragment else "accounts/overview.html", context)
    # The page and its content partial share the URL: keep the browser's cache from mixing them up.
    patch_vary_headers(response, ["HX-Request"])
    return response


@account_view
@require_http_methods(["GET", "POST"])
def account_settings(request: AccountRequest) -> HttpResponse:
    """The account's name and plan, shared by every admin of the account."""
    account = request.zoom_account
    if request.method == "POST":
        form = AccountSettingsForm(request.POST)
        if form.is_valid():
            connections.account_settings_save(
                account=account,
                actor=request.zoom_connection,
                name=form.cleaned_data["name"],
                plan=form.cleaned_data["plan"],
            )
            messages.success(request, f"Saved the settings of {account.name}.")
            return redirect("account:settings", account.zoom_id)
    else:
        form = AccountSettingsForm(initial={"name": account.name, "plan": account.plan})
    return render(request, "accounts/settings.html", {"account": account, "form": form})


@account_view
@require_GET
def reauth(request: AccountRequest) -> HttpResponse:
    """Zoom refused this admin's sign-in for the account: say so, and offer to sign in again."""
    return render(
        request,
        "accounts/reauth.html",
        {"account": request.zoom_account, "connection": request.zoom_connection, "next": safe_next(request)},
    )
