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
from typing import Any, NamedTuple, cast

from django.core.paginator import Page, Paginator
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Func,
    OrderBy,
    Q,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.functions import Lower
from django.db.models.lookups import Exact, GreaterThan, LessThan
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
# A search's count (PostgreSQL) stops here: "more than 5,000 users match" (see users_page).
COUNT_CAP = 5_000


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


def users_matching(account_id: int, words: Sequence[str], *, hide_account: bool = True) -> QuerySet[DirectoryUser]:
    """The users of one account matching every word (anywhere, or a name's start for short words).

    Without words this is the account's users. With words, the account is compared as
    `account_id + 0`: PostgreSQL prices a LIKE as cheap as `=`, so it would otherwise walk the
    account's (or a sort's) btree and test all 50,000 rows one by one (40 to 200 ms measured), where
    the trigram and prefix indexes find the few hundred candidates in a few milliseconds. The
    expression hides the account from those btrees, so the search indexes are used; the account
    is still checked on every row. `hide_account=False` compares it plainly, for the one query that
    does want a sort's btree (`users_page` on a search matching more than `COUNT_CAP` users).
    """
    if not words:
        return DirectoryUser.objects.filter(account_id=account_id)
    users: QuerySet[DirectoryUser]
    if hide_account:
        users = DirectoryUser.objects.alias(
            account_key=ExpressionWrapper(F("account_id") + 0, output_field=BigIntegerField())
        ).filter(account_key=account_id)
    else:
        users = DirectoryUser.objects.filter(account_id=account_id)
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


def _ordered(term: Any, *, descending: bool) -> OrderBy:
    expression = F(term) if isinstance(term, str) else term
    if isinstance(expression, OrderBy):
        if not descending:
            return expression
        return OrderBy(expression.expression, descending=True, nulls_last=True)
    return expression.desc() if descending else expression.asc()


def sort_ordering(sort: str) -> list[OrderBy]:
    """The ORDER BY of a sort key (`name`, or `-name` for descending); unknown keys sort by name."""
    descending = sort.startswith("-")
    terms = SORTS.get(sort.removeprefix("-"), SORTS[DEFAULT_SORT])
    return [_ordered(term, descending=descending) for term in terms]


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


def users_search(account: ZoomAccount, filters: UserFilters, *, hide_account: bool = True) -> QuerySet[DirectoryUser]:
    """The account's mirrored users matching `filters`, in the filters' sort order.

    The query never leaves the account (`account` is the first condition of every index used).
    `hide_account`: see `users_matching`.
    """
    users = users_matching(account.pk, search_words(filters.q), hide_account=hide_account)
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


class SearchPaginator(Paginator):  # type: ignore[type-arg]
    """A Paginator whose count may have stopped at `cap` (`capped`: more than `cap` match).

    A capped count is `cap + 1` for the arithmetic; nothing may show it, nor a number of pages.
    """

    def __init__(self, object_list: QuerySet[DirectoryUser], per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.capped = False

    def _get_page(self, *args: Any, **kwargs: Any) -> SearchPage:
        return SearchPage(*args, **kwargs)

    def get_page(self, number: Any) -> SearchPage:
        return cast(SearchPage, super().get_page(number))


class SearchPage(Page):  # type: ignore[type-arg]
    """A page of a `SearchPaginator`: with a capped count, the pages end where the rows do."""

    paginator: SearchPaginator

    @property
    def capped(self) -> bool:
        return self.paginator.capped

    def has_next(self) -> bool:
        # A full page may have a next one; only an empty page tells where the matches end.
        if self.capped:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()

    def next_page_number(self) -> int:
        return self.number + 1 if self.capped else super().next_page_number()

    def previous_page_number(self) -> int:
        return self.number - 1 if self.capped else super().previous_page_number()

    def end_index(self) -> int:
        if self.capped:
            return self.start_index() + len(self.object_list) - 1
        return super().end_index()


def users_page(
    account: ZoomAccount, filters: UserFilters, *, number: str | None, per_page: int, fields: Sequence[str]
) -> SearchPage:
    """One page of the users matching `filters` (only `fields` loaded), like `Paginator.get_page`
    (bad or past-the-end numbers are mended).

    Without a search, the plain COUNT is an index-only count and the page an index walk that stops
    after `per_page` rows: the usual two queries. A search reads its candidates once: the page's ids
    carry the total (`COUNT(*) OVER ()`), instead of a COUNT query that finds the same candidates
    again; then the page's rows by primary key (narrow rows first, so thousands of candidates are
    counted and sorted in memory).

    On PostgreSQL that count stops at `COUNT_CAP`: a common word matches tens of thousands of users
    (44,000 of 250,000 for "engin"), and counting or sorting them all visits every one of them
    (150 to 200 ms). Up to `COUNT_CAP` the count and the page are exact; above it the paginator is
    `capped` and the page comes from `_bounded_page_ids`.
    """
    users = users_search(account, filters).only(*fields)
    paginator = SearchPaginator(users, per_page, cap=COUNT_CAP)
    if not search_words(filters.q):
        return paginator.get_page(number)
    try:
        wanted = max(1, int(number or 1))
    except (TypeError, ValueError):
        wanted = 1
    offset = (wanted - 1) * per_page
    if offset >= 10**9:
        return paginator.get_page(number)
    if connections[users.db].vendor != "postgresql":
        ids, total = _counted_page_ids(users, offset=offset, limit=per_page)
        if not ids and offset > 0:
            # Past the end: count, then show the last page.
            return paginator.get_page(number)
        return _loaded_page(paginator, ids, total or 0, wanted, fields)
    ordering = sort_ordering(filters.sort)
    candidates = _capped_page_ids(users, ordering, offset=offset, limit=per_page)
    if candidates.total <= COUNT_CAP:
        # Exact; a page past the end came back as the last one.
        return _loaded_page(paginator, candidates.ids, candidates.total, candidates.offset // per_page + 1, fields)
    # More than COUNT_CAP match: the candidates' page was sorted from the first ones found, not from all.
    paginator.capped = True
    if candidates.offset == offset and len(candidates.ids) == per_page and None not in candidates.last_key:
        ids = _bounded_page_ids(account, filters, ordering, candidates.last_key, offset=offset, limit=per_page)
    else:
        # No bound (a page beyond the candidates, or a NULL in the key): sort every match.
        ids = list(users.values_list("pk", flat=True)[offset : offset + per_page])
        if len(ids) < per_page:
            # The page ends the matches: the total is known after all.
            paginator.capped = False
            if not ids:
                # Past the end: count, then show the last page.
                return paginator.get_page(number)
            return _loaded_page(paginator, ids, offset + len(ids), wanted, fields)
    return _loaded_page(paginator, ids, COUNT_CAP + 1, wanted, fields)


def _loaded_page(
    paginator: SearchPaginator, ids: list[int], total: int, number: int, fields: Sequence[str]
) -> SearchPage:
    """Page `number` of `paginator`, holding the users `ids` in that order (`total`: the paginator's count)."""
    # Paginator's count is a cached property: give it the total the query brought.
    paginator.__dict__["count"] = total
    loaded = {row.pk: row for row in DirectoryUser.objects.filter(pk__in=ids).only(*fields)}
    return SearchPage([loaded[pk] for pk in ids if pk in loaded], number, paginator)


def _counted_page_ids(users: QuerySet[DirectoryUser], *, offset: int, limit: int) -> tuple[list[int], int | None]:
    """The ids of `users[offset:offset + limit]` and the total of all `users` (None: no row to carry it)."""
    rows = list(
        users.annotate(total_count=Window(Count("pk"))).values_list("pk", "total_count")[offset : offset + limit]
    )
    return [pk for pk, _ in rows], (rows[0][1] if rows else None)


class _Candidates(NamedTuple):
    """A page of the first `COUNT_CAP + 1` matches a search finds (see `_capped_page_ids`)."""

    ids: list[int]
    # Exact up to COUNT_CAP; COUNT_CAP + 1 means more.
    total: int
    # Where `ids` start: the last page's offset when the page asked for was past the end.
    offset: int
    # The sort key of the last of `ids` (empty without ids).
    last_key: tuple[Any, ...]


def _capped_page_ids(
    users: QuerySet[DirectoryUser], ordering: Sequence[OrderBy], *, offset: int, limit: int
) -> _Candidates:
    """A page of `users` among the first `COUNT_CAP + 1` candidates the search finds (in no order),
    their count, and the sort key of the page's last row; past the end, the last page.

    `SELECT id, COUNT(*) OVER (), <sort columns> FROM (SELECT id, <sort columns> … LIMIT COUNT_CAP +
    1) AS c ORDER BY <sort> LIMIT …`: at most that many rows are read, counted and sorted. Past the
    first page the candidates are numbered in the sort order instead (`ROW_NUMBER()`, a few
    milliseconds more for thousands of them: a full sort rather than the top rows), so a page past
    the end comes back as the last page from the same query. The ORM has no derived tables: the
    outer query wraps the SQL the ORM compiles for the inner one (with its parameters), which keeps
    `users_matching`'s `account_id + 0`, so the search indexes find the candidates.
    """
    connection = connections[users.db]
    keys = {f"sort_{index}": term.expression for index, term in enumerate(ordering)}
    candidates = users.order_by().annotate(page_id=F("pk"), **keys).values("page_id", *keys)[: COUNT_CAP + 1]
    sql, params = candidates.query.sql_with_params()
    names = [f"c.{connection.ops.quote_name(key)}" for key in keys]
    columns = ", ".join(names)
    order = ", ".join(
        f"{name} {'DESC' if term.descending else 'ASC'}"
        + (" NULLS LAST" if term.nulls_last else " NULLS FIRST" if term.nulls_first else "")
        for name, term in zip(names, ordering, strict=True)
    )
    # Only the ORM's own SQL and quoted names are formatted into the text; values are parameters.
    if offset == 0:
        # The first page cannot be past the end: it starts at place 1, and only its top rows are sorted.
        query = f"SELECT c.page_id, COUNT(*) OVER (), 1, {columns} FROM ({sql}) AS c ORDER BY {order} LIMIT %s"  # noqa: S608
        arguments = (*params, limit)
    else:
        query = (
            f"SELECT * FROM (SELECT c.page_id, COUNT(*) OVER () AS total, "  # noqa: S608
            f"ROW_NUMBER() OVER (ORDER BY {order}) AS place, {columns} FROM ({sql}) AS c) AS p "
            "WHERE place > LEAST(%s, (total - 1) / %s * %s) ORDER BY place LIMIT %s"
        )
        arguments = (*params, offset, limit, limit, limit)
    with connection.cursor() as cursor:
        cursor.execute(query, arguments)
        rows = cursor.fetchall()
    if not rows:
        return _Candidates([], 0, 0, ())
    return _Candidates([row[0] for row in rows], rows[0][1], rows[0][2] - 1, tuple(rows[-1][3:]))


class RowCompare(Func):
    """`(<columns>) <= (<values>)` (`>=` for a descending sort): rows up to a sort key, compared as
    a whole the way the sort's btree index orders them, so that index can stop there."""

    template = "%(expressions)s"
    output_field = BooleanField()

    def __init__(self, ordering: Sequence[OrderBy], key: Sequence[Any]) -> None:
        columns = Func(*(term.expression for term in ordering), template="(%(expressions)s)")
        values = Func(*(Value(value) for value in key), template="(%(expressions)s)")
        super().__init__(columns, values, arg_joiner=" >= " if ordering[0].descending else " <= ")


def sort_bound(ordering: Sequence[OrderBy], key: Sequence[Any]) -> Q:
    """The rows that sort up to `key` (included) in `ordering`.

    One row comparison would do, but PostgreSQL estimates one from its first column alone: for
    `(status, name, id) <= ('active', 'aisha …', 4)` that is "80 % of the rows", and it then reads
    the account through another index. Split on the first column (`status < 'active' OR (status =
    'active' AND (name, id) <= ('aisha …', 4))`), the estimate is a few rows, and both branches are
    ranges of the sort's index.
    """
    if len({term.descending for term in ordering}) != 1:
        raise ValueError("a sort bound needs every column sorted the same way")
    first, *rest = ordering
    before = GreaterThan if first.descending else LessThan
    return Q(before(first.expression, key[0])) | Q(Exact(first.expression, key[0]), RowCompare(rest, key[1:]))


def _bounded_page_ids(
    account: ZoomAccount,
    filters: UserFilters,
    ordering: Sequence[OrderBy],
    last_key: Sequence[Any],
    *,
    offset: int,
    limit: int,
) -> list[int]:
    """The ids of a page of a search matching more than `COUNT_CAP` users, among all of them.

    `last_key` is the sort key of the page's last row among the capped count's candidates. Those
    are matches too, so at least `offset + limit` matches sort up to it: the page lies among the
    matches up to that key (`sort_bound`), which are few (about `limit` divided by the share of all
    matches the candidates were). The account is compared plainly, so the sort's btree index
    (migrations 0002 and 0004) finds the rows up to the key.

    Index scans and sequential scans are off for this one query (`SET LOCAL`, in its own
    transaction), which leaves bitmap scans: the sort index's range up to the key, met with the
    search index's matches when that is cheaper, then a few hundred rows sorted. Left to itself the
    planner walks the sort's index in order and tests each row, expecting matches to be spread
    evenly. They are not when the search and the sort look at the same column: "ivan" sorted by
    name from Z to A reads the 145,000 names after Ivan's first, "senior" sorted by title every
    title before it (150 to 500 ms at 250,000 users). Over the benchmark's 65 searches above the
    cap, the bitmap scans took 10 ms (median) and 45 ms at most, the ordered walk 7 ms and 200 ms.
    """
    users = users_search(account, filters, hide_account=False).filter(sort_bound(ordering, last_key))
    page = users.values_list("pk", flat=True)[offset : offset + limit]
    with transaction.atomic(using=page.db), connections[page.db].cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        ids = list(page)
        # Nothing was written. Rolling back also undoes the settings when a caller's transaction
        # goes on (this block is then a savepoint, and SET LOCAL would last to that one's end).
        transaction.set_rollback(True, using=page.db)
    return ids


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
