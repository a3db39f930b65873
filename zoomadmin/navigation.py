"""The shell's primary navigation: which sections exist, where they link, which one the page is in.

The current section comes from the URL the request resolved to (its namespace and name), never from
each view remembering to say so: every page of an app lights up its item, including pages added
later. A section appears once its app's URL exists; account pages (`/a/<zoom account id>/…`) link to
the account the page is about, or elsewhere to the account the person works on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavSection:
    """One item of the primary navigation.

    `targets`: URL names the item links to, the first that exists wins. `owns`: (namespace, url
    name prefixes) pairs; a page whose URL is in that namespace and whose name starts with one of
    the prefixes (any name, when there are none) belongs to this section.
    """

    label: str
    targets: tuple[str, ...]
    owns: tuple[tuple[str, tuple[str, ...]], ...]

    def owns_page(self, namespace: str, url_name: str) -> bool:
        """True when the page named `namespace:url_name` is in this section."""
        return any(
            namespace == owner and (not prefixes or url_name.startswith(prefixes)) for owner, prefixes in self.owns
        )


@dataclass(frozen=True)
class NavItem:
    """A section as the template draws it."""

    label: str
    url: str
    current: bool


SECTIONS = (
    NavSection(
        "Overview", ("account:overview", "accounts:home"), (("account", ("overview",)), ("accounts", ("home",)))
    ),
    # The directory app serves both: group pages are named group…, everything else is about users.
    NavSection("Users", ("directory:users",), (("directory", ("user", "sync")),)),
    NavSection("Groups", ("directory:groups",), (("directory", ("group",)),)),
    NavSection("Imports", ("imports:list",), (("imports", ()),)),
    NavSection("Audit log", ("audit:list",), (("audit", ()),)),
)


def primary_nav(request: HttpRequest) -> dict[str, list[NavItem]]:
    """Context processor: `primary_nav`, the sections that exist, the page's own marked current."""
    if not request.user.is_authenticated:
        return {"primary_nav": []}
    match = request.resolver_match
    namespace = match.namespace if match else ""
    url_name = (match.url_name or "") if match else ""
    account_id = _account_id(request)
    items = []
    for section in SECTIONS:
        url = _first_url(section.targets, account_id)
        if url is not None:
            items.append(NavItem(section.label, url, section.owns_page(namespace, url_name)))
    return {"primary_nav": items}


def _account_id(request: HttpRequest) -> str | None:
    """The Zoom account the links point at: the page's own, else the one the person works on.

    The page's own only once the access check let this person in (it sets `request.zoom_account`): the
    not-found page for another account's address must not link to, or repeat, that account.
    """
    page_account = getattr(request, "zoom_account", None)
    if page_account is not None:
        return str(page_account.zoom_id)
    from zoomadmin.accounts.access import request_connection  # the dashboard's app; absent in the sandbox

    connection = request_connection(request)
    return connection.account.zoom_id if connection is not None else None


def _first_url(names: tuple[str, ...], account_id: str | None) -> str | None:
    for name in names:
        attempts: list[dict[str, str]] = [{"zoom_account_id": account_id}] if account_id else []
        for kwargs in [*attempts, {}]:
            try:
                return reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue
    return None
