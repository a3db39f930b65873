"""The users and groups lists' queries: search, filters and sort over the mirror, fast on PostgreSQL.

Search: every word typed must match. A word of three or more characters matches anywhere in the
user's email, names, department, job title or employee number: a case-insensitive substring of
one text, `SearchText()`. On PostgreSQL that text is a stored generated column with a trigram
index (migration 0003), so `LIKE '%jill%'` over 250,000 users is an
index scan; elsewhere (SQLite, the demo) it is the same expression, computed. One or two letters
cannot use trigrams and would match almost everyone anyway: they match the *start* of a first
name, last name, display name or email (prefix indexes), which is what a person typing a name
expects. Django escapes `%`, `_` and `\\` in the words, so they match literally.

Everything here takes already validated values (`forms.UserFilterForm` turns a hand-edited URL
into them, dropping what makes no sense with a message).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Func, OrderBy, Q, QuerySet, TextField, Window
from django.db.models.functions import Lower
from django.db.models.sql.compiler import SQLCompiler

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.models import DirectoryGroup, DirectoryUser

# The columns the search box looks in, in the order of the stored column's expression (migration
# 0003): changing this list needs a migration that redefines that column the same way.
SEARCH_FIELDS = (
    "email",
    "display_name",
    "given_name",
    "family_name",
    "department",
    "title",
    "employee_number",
)
# The stored generated column PostgreSQL keeps for SearchText() (not a model field: see 0003).
SEARCH_COLUMN = "search_text"
# Words of the search box beyond this many are ignored: each is one more condition.
MAX_SEARCH_WORDS = 6
# Shorter words match the start of a name or email instead of anywhere (no trigram in them).
SUBSTRING_MIN_CHARS = 3


class SearchText(Func):
    """`LOWER(email || ' ' || display_name || …)`: the text a user's search words are looked for in.

    On PostgreSQL, for the users' own fields, it reads the stored column of migration 0003 (same
    value, computed once per write). Written out by hand rather than with `Concat` (which wraps
    every column in COALESCE): these columns are NOT NULL, and the separator keeps a word from
    matching across two columns' edges.
    """

    template = "LOWER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self, *fields: str) -> None:
        self.stored = not fields or tuple(fields) == SEARCH_FIELDS
        super().__init__(*(F(name) for name in (fields or SEARCH_FIELDS)))

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        if not self.stored:
            return self.as_sql(compiler, connection, **extra_context)
        # The stored column of the same table (alias) as the first searched column.
        column_sql, _ = compiler.compile(self.get_source_expressions()[0])
        table = column_sql.rsplit(".", 1)[0] + "." if "." in column_sql else ""
        return f"{table}{connection.ops.quote_name(SEARCH_COLUMN)}", []


def search_words(text: str) -> list[str]:
    """The lowercased words of a search box's text (at most `MAX_SEARCH_WORDS`)."""
    return [word.lower() for word in text.split()][:MAX_SEARCH_WORDS]


def search_filter(words: Sequence[str], *, alias: str = "search_text") -> Q:
    """Every word must appear somewhere in the searched text (the annotation named `alias`)."""
    condition = Q()
    for word in words:
        condition &= Q(**{f"{alias}__contains": word})
    return condition


def users_matching(account_id: int, words: Sequence[str]) -> QuerySet[DirectoryUser]:
    """The users of one account matching every word (anywhere, or a name's start for short words).

    Without words this is the account's users. With words, the account is compared as
    `account_id + 0`: PostgreSQL prices a LIKE as cheap as `=`, so it would otherwise walk the
    account's (or a sort's) btree and test all 50,000 rows one by one (40 to 200 ms measured), where
    the trigram and prefix indexes find the few hundred candidates in a few milliseconds. The
    expression hides the account from those btrees, so the search indexes are used; the account
    is still checked on every row.
    """
    if not words:
        return DirectoryUser.objects.filter(account_id=account_id)
    users = DirectoryUser.objects.alias(
        account_key=ExpressionWrapper(F("account_id") + 0, output_field=BigIntegerField())
    ).filter(account_key=account_id)
    long_words = [word for word in words if len(word) >= SUBSTRING_MIN_CHARS]
    short_words = [word for word in words if len(word) < SUBSTRING_MIN_CHARS]
    if long_words:
        users = users.alias(search_text=SearchText()).filter(search_filter(long_words))
    if short_words:
        users = users.alias(
            given_lower=Lower("given_name"), family_lower=Lower("family_name"), display_lower=Lower("display_name")
        )
        for word in short_words:
            users = users.filter(
                Q(given_lower__startswith=word)
                | Q(family_lower__startswith=word)
                | Q(display_lower__startswith=word)
                | Q(email__startswith=word)
            )
    return users


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
    users = users_matching(account.pk, search_words(filters.q))
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


def users_page(users: QuerySet[DirectoryUser], *, number: str | None, per_page: int, searching: bool) -> Page[Any]:
    """One page of `users` with its paginator, like `Paginator.get_page` (bad or past-the-end numbers are mended).

    A search reads its candidates once: the rows of the page carry the total (`COUNT(*) OVER ()`),
    instead of a COUNT query that finds the same candidates again. Without a search, the plain
    COUNT is an index-only count and the page an index walk that stops after `per_page` rows,
    which a window count would defeat, so the usual two queries are kept.
    """
    paginator = Paginator(users, per_page)
    if not searching:
        return paginator.get_page(number)
    try:
        wanted = max(1, int(number or 1))
    except (TypeError, ValueError):
        wanted = 1
    offset = (wanted - 1) * per_page
    # Two steps: the ids of the page with the total (narrow rows, so even tens of thousands of
    # candidates are counted and sorted in memory), then those rows by primary key.
    counted = users.annotate(total_count=Window(Count("pk"))).values_list("pk", "total_count")
    found = list(counted[offset : offset + per_page]) if offset < 10**9 else []
    if found or offset == 0:
        # Paginator's count is a cached property: give it the total the rows brought (none: zero).
        paginator.__dict__["count"] = found[0][1] if found else 0
        by_pk = users.model._default_manager.filter(pk__in=[pk for pk, _ in found])
        by_pk.query.deferred_loading = users.query.deferred_loading
        loaded = {row.pk: row for row in by_pk}
        return Page([loaded[pk] for pk, _ in found if pk in loaded], wanted, paginator)
    # Past the end: count, then show the last page.
    return paginator.get_page(number)


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
