"""The sandbox's own pages: an index of its accounts and apps, and Zoom-shaped 404s."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from zoomadmin.favicon import favicon_redirect
from zoomadmin.sandbox.api import allow_methods, path_error
from zoomadmin.sandbox.knobs import knob_fields
from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus

# Shown on their own line of the account (or not knobs at all), so left out of "changed knobs".
_SHOWN_APART = frozenset({"name", "vanity_domain", "plan", "rate_limits_enabled", "sso_enabled"})

# Zoom's own documentation of what the sandbox emulates.
ZOOM_DOCS = (
    ("SCIM2 API", "https://developers.zoom.us/docs/api/scim2/"),
    ("OAuth scopes", "https://developers.zoom.us/docs/integrations/oauth-scopes-granular/"),
    ("OAuth error messages", "https://developers.zoom.us/docs/integrations/oauth-error-messages/"),
    ("Rate limits", "https://developers.zoom.us/docs/commerce/rate-limits/"),
)


@dataclass
class AccountSummary:
    """One account as the index shows it: counts by status and role, and the knobs that differ from defaults."""

    account: SandboxAccount
    users: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    admins: int = 0
    owner_email: str = ""
    groups: int = 0
    changed_knobs: list[tuple[str, object]] = field(default_factory=list)

    @property
    def active(self) -> int:
        return self.by_status.get(UserStatus.ACTIVE, 0)

    @property
    def deactivated(self) -> int:
        return self.by_status.get(UserStatus.INACTIVE, 0)

    @property
    def pending(self) -> int:
        return self.by_status.get(UserStatus.PENDING, 0)


def _changed_knobs(account: SandboxAccount) -> list[tuple[str, object]]:
    """Knobs whose value differs from the model default, by the name `sandbox_account set` takes."""
    changed = []
    for knob in knob_fields():
        if knob.name in _SHOWN_APART:
            continue
        value = getattr(account, knob.attname)
        if value != knob.get_default():
            changed.append((knob.name, value))
    return changed


def accounts_summarize() -> list[AccountSummary]:
    """Every sandbox account with its counts, in four queries whatever the number of users."""
    summaries = {
        account.pk: AccountSummary(account=account) for account in SandboxAccount.objects.order_by("name", "id")
    }
    counts = SandboxUser.objects.values_list("account_id", "status", "role").annotate(n=Count("id")).order_by()
    for account_id, status, role, n in counts:
        summary = summaries[account_id]
        summary.users += n
        summary.by_status[status] = summary.by_status.get(status, 0) + n
        if role == Role.ADMIN:
            summary.admins += n
    for account_id, n in SandboxGroup.objects.values_list("account_id").annotate(n=Count("id")).order_by():
        summaries[account_id].groups = n
    owners = SandboxUser.objects.filter(role=Role.OWNER).order_by("id").values_list("account_id", "user_name")
    for account_id, user_name in owners:
        summaries[account_id].owner_email = summaries[account_id].owner_email or user_name
    for summary in summaries.values():
        summary.changed_knobs = _changed_knobs(summary.account)
    return list(summaries.values())


# A browser page, but other methods get Zoom's 405 (JSON) rather than a CSRF page.
@csrf_exempt
@allow_methods("GET")
def index(request: HttpRequest) -> HttpResponse:
    """What this sandbox holds, for a person who opens its URL in a browser."""
    # Client secrets are never rendered, so they are not even loaded.
    apps = OAuthApp.objects.select_related("account").defer("client_secret").order_by("name", "id")
    base_url = request.build_absolute_uri("/").rstrip("/")
    context = {
        "accounts": accounts_summarize(),
        "apps": apps,
        "base_url": base_url,
        "zoom_docs": ZOOM_DOCS,
    }
    return render(request, "sandbox/index.html", context)


# Browsers ask every site for it (the admin's pages have no icon link); other methods get Zoom's 405.
favicon = csrf_exempt(allow_methods("GET", "HEAD")(favicon_redirect("img/sandbox-icon.ico")))


# Any method: a POST to `/scim2/Bulk` is as unknown to Zoom as a GET, so no CSRF page may answer it.
@csrf_exempt
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Endpoints Zoom does not have (`/scim2/Me`, `/scim2/Bulk`, ...) answer 404 in Zoom's shapes."""
    return path_error(request, 404, detail="The requested resource was not found.", message="Not Found")


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected crash answers Zoom's 500, not Django's HTML page (a client must parse it)."""
    return path_error(request, 500, detail="Internal server error.", message="Internal server error.")
