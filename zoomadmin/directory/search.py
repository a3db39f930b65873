"""The users and groups lists' queries: search, filters and sort over the mirror, fast on PostgreSQL.

Search is a case-insensitive substring match of every word typed against one expression,
`SearchText()`: the lowercased concatenation of the searched columns. On PostgreSQL a `pg_trgm`
GIN index is built on exactly that expression (migration `0002_search_indexes`), so
`LIKE '%jill%'` over 250,000 users is an index scan, not a scan of the table; SQLite (the demo)
runs the same SQL without the index. Sorts go through btree indexes on the same lowercased
columns (`SORTS`). Django escapes `%`, `_` and `\\` in the words, so they match literally.

Everything here takes already validated values (`forms.UserFilterForm` turns a hand-edited URL
into them, dropping what makes no sense with a message).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Func, OrderBy, Q, QuerySet, TextField
from django.db.models.functions import Lower

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser

# The columns the search box looks in, in the order of the indexed expression: changing this list
# needs a migration that rebuilds the trigram index with the same expression (see SearchText).
SEARCH_FIELDS = (
    "email",
    "display_name",
    "given_name",
    "family_name",
    "department",
    "title",
    "employee_number",
)
# Words of the search box beyond this many are ignored: each is one more LIKE over the index.
MAX_SEARCH_WORDS = 6


class SearchText(Func):
    """`LOWER(email || ' ' || display_name || …)` over `SEARCH_FIELDS`: the trigram-indexed expression.

    Written out by hand rather than with `Concat` (which wraps every column in COALESCE): the
    PostgreSQL planner uses an expression index only for the very same expression, and these
    columns are NOT NULL. The separator keeps a word from matching across two columns' edges.
    """

    template = "LOWER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self, *fields: str) -> None:
        super().__init__(*(F(name) for name in (fields or SEARCH_FIELDS)))


def search_words(text: str) -> list[str]:
    """The lowercased words of a search box's text (at most `MAX_SEARCH_WORDS`)."""
    return [word.lower() for word in text.split()][:MAX_SEARCH_WORDS]


def search_filter(words: Sequence[str], *, alias: str = "search_text") -> Q:
    """Every word must appear somewhere in the searched columns (the annotation named `alias`)."""
    condition = Q()
    for word in words:
        condition &= Q(**{f"{alias}__contains": word})
    return condition


# License and feature flags of Zoom's zoom:1.0:User block (the mirror's `licenses` keys), as
# admins name them. Boolean flags count when true; the plan-specific ones when they have a value.
LICENSES: dict[str, str] = {
    "zoomUnited": "Zoom United",
    "zoomOneBizPlus": "Zoom One Business Plus",
    "zoomOneEdu": "Zoom One Education",
    "zoomOneEntPremier": "Zoom One Enterprise Premier",
    "zoomIQ": "Zoom IQ",
    "zoomWhiteboard": "Whiteboard",
    "zoomWhiteboardPlus": "Whiteboard Plus",
    "zoomTranslatedCaptions": "Translated captions",
    "zoomHuddles": "Huddles",
    "zoomCustomerManagedKey": "Customer managed key",
}
VALUED_LICENSES = frozenset({"zoomUnited", "zoomOneBizPlus", "zoomOneEdu", "zoomOneEntPremier"})


def license_filter(key: str) -> Q:
    """Users holding the license or feature `key` (only users whose full profile was fetched can)."""
    if key in VALUED_LICENSES:
        return Q(licenses__has_key=key) & ~Q(**{f"licenses__{key}": ""}) & ~Q(**{f"licenses__{key}": None})
    return Q(**{f"licenses__{key}": True})


# Sort keys of the users list → ordering. Each ends in `id`, so paging is stable among equal values;
# the lowercased ones match the btree indexes of migration 0002 (case-insensitive, like people sort).
NAME = Lower("display_name")
SORTS: dict[str, tuple[Any, ...]] = {
    "name": (NAME, "id"),
    "email": ("email", "id"),
    "department": (Lower("department"), NAME, "id"),
    "title": (Lower("title"), NAME, "id"),
    "status": ("status", NAME, "id"),
    "type": ("user_type", NAME, "id"),
    "role": ("role", NAME, "id"),
    "modified": (F("zoom_modified_at").asc(nulls_last=True), "id"),
}
DEFAULT_SORT = "name"


def _descending(term: Any) -> Any:
    if isinstance(term, str):
        return F(term).desc()
    if isinstance(term, OrderBy):
        return OrderBy(term.expression, descending=True, nulls_last=True)
    return term.desc()


def sort_ordering(sort: str) -> list[Any]:
    """The ORDER BY of a sort key (`name`, or `-name` for descending); unknown keys sort by name."""
    descending = sort.startswith("-")
    terms = SORTS.get(sort.removeprefix("-"), SORTS[DEFAULT_SORT])
    return [_descending(term) for term in terms] if descending else list(terms)


@dataclass
class UserFilters:
    """The users list's valid filters (empty ones narrow nothing)."""

    q: str = ""
    status: str = ""
    user_type: str = ""
    license: str = ""
    department: str = ""
    group: DirectoryGroup | None = None
    role: str = ""
    sort: str = DEFAULT_SORT
    # Zoom ids of rows picked one by one (the export of a selection); empty means "all matching".
    ids: list[str] = field(default_factory=list)

    @property
    def narrowed(self) -> bool:
        """Whether any filter or search is set (the list is not the whole account)."""
        return bool(self.q or self.status or self.user_type or self.license or self.department or self.group)


def users_search(account: ZoomAccount, filters: UserFilters) -> QuerySet[DirectoryUser]:
    """The account's mirrored users matching `filters`, in the filters' sort order.

    The query never leaves the account (`account` is the first condition of every index used).
    """
    users = DirectoryUser.objects.filter(account=account)
    words = search_words(filters.q)
    if words:
        users = users.alias(search_text=SearchText()).filter(search_filter(words))
    if filters.status:
        users = users.filter(status=filters.status)
    if filters.user_type:
        users = users.filter(user_type=filters.user_type)
    if filters.role:
        users = users.filter(role=filters.role)
    if filters.department:
        users = users.filter(department=filters.department)
    if filters.license:
        users = users.filter(license_filter(filters.license))
    if filters.group is not None:
        users = users.filter(memberships__group=filters.group)
    if filters.ids:
        users = users.filter(zoom_id__in=filters.ids)
    return users.order_by(*sort_ordering(filters.sort))


def groups_search(account: ZoomAccount, q: str = "") -> QuerySet[DirectoryGroup]:
    """The account's mirrored groups whose name (or email alias) contains every word of `q`, by name."""
    groups = DirectoryGroup.objects.filter(account=account)
    words = search_words(q)
    if words:
        groups = groups.alias(search_text=SearchText("display_name", "email_alias")).filter(search_filter(words))
    return groups.order_by(Lower("display_name"), "id")


def user_facets(account: ZoomAccount, *, limit: int = 1000) -> dict[str, list[Any]]:
    """The values the filter menus offer: user types, departments and groups present in the mirror.

    Three small queries (distinct values through the account's indexes); capped at `limit` each so
    an account with a department per person still gets a page of reasonable size.
    """
    users = DirectoryUser.objects.filter(account=account)
    user_types = list(
        users.exclude(user_type="").order_by("user_type").values_list("user_type", flat=True).distinct()[:limit]
    )
    departments = list(
        users.exclude(department="").order_by("department").values_list("department", flat=True).distinct()[:limit]
    )
    groups = list(
        DirectoryGroup.objects.filter(account=account)
        .order_by(Lower("display_name"), "id")
        .values_list("zoom_id", "display_name")[:limit]
    )
    return {"user_types": user_types, "departments": departments, "groups": groups}
