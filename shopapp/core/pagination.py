"""One page of a list, the same shape for pages and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, func, select

from shopapp.core.db import db
from shopapp.core.errors import Invalid

T = TypeVar("T")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# Lists that can grow with the catalog count their rows only this far (see ``paginate``).
EXACT_TOTAL_UP_TO = 1_000
# Offset paging reads, then drops, every row before the page: no list goes deeper than this many rows
# (page * per_page), so no request makes the database rank and skip more. Searches and filters reach the rest.
MAX_ROWS_DEEP = 10_000


def last_page(per_page: int) -> int:
    """The deepest page of ``per_page`` rows that a list shows (``MAX_ROWS_DEEP``)."""
    return max(1, MAX_ROWS_DEEP // per_page)


@dataclass(frozen=True)
class Page(Generic[T]):
    """``total`` is exact, unless ``total_is_lower_bound``: then there are more rows than that.

    ``has_next`` says whether a row follows this page (one more row is read to know), so it is
    right even where the total is only a lower bound; never past ``last_page``, the deepest page
    (``MAX_ROWS_DEEP``), nor are ``pages``.
    """

    items: list[T]
    page: int
    per_page: int
    total: int
    has_next: bool = False
    total_is_lower_bound: bool = False
    # Rows follow, but this is the deepest page a list shows (``last_page``).
    at_depth_limit: bool = False

    @property
    def pages(self) -> int:
        """The pages one can ask for: of ``total`` items, and never past ``last_page``."""
        return min(ceil(self.total / self.per_page), last_page(self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def check_page(page: int, per_page: int) -> None:
    if page < 1:
        raise Invalid("must be at least 1", "page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"must be between 1 and {MAX_PER_PAGE}", "per_page")
    if page > last_page(per_page):
        raise Invalid(
            f"must be at most {last_page(per_page)} with per_page={per_page}: lists go at most {MAX_ROWS_DEEP} rows "
            "deep (page * per_page); narrow the search or the filters to reach further",
            "page",
        )


@dataclass(frozen=True)
class PageStatement:
    """The statements of one page of a list, for any page: the values go in parameters (``page_params``).

    ``rows`` is the page with its count as a column, ``total`` the count alone. Build it once for a
    list whose statement is always the same (its values in parameters too), and run it with ``run_page``.
    """

    rows: Select[Any]
    total: Select[Any]


def page_statement(stmt: Select[Any], *, count: Select[Any] | None = None, capped: bool = False) -> PageStatement:
    """The page of ``stmt`` (already ordered) and its row count (those of ``count``, if given; ``capped``:
    only up to a limit, see ``paginate``)."""
    counted = (stmt if count is None else count).order_by(None)
    if capped:
        counted = counted.limit(bindparam("count_limit", type_=Integer))
    total_of = select(func.count()).select_from(counted.subquery())
    rows = stmt.add_columns(total_of.scalar_subquery())
    return PageStatement(
        rows.limit(bindparam("page_limit", type_=Integer)).offset(bindparam("page_offset", type_=Integer)), total_of
    )


def paginate(
    stmt: Select[Any],
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    *,
    count: Select[Any] | None = None,
    exact_up_to: int | None = None,
) -> Page[Any]:
    """Run ``stmt`` (already ordered) for one page, and count its rows (those of ``count``, if given).

    The count rides along the page as a column (one round trip, not two); only an empty page past
    the first counts on its own, to say where the results end. With ``exact_up_to`` the count stops
    there, or at the end of the requested page if that is further (``count(*)`` over ``… LIMIT n + 1``):
    counting the 200 000 products that match a common word cost more than finding the page. Beyond
    it ``total`` is a lower bound, flagged, and ``has_next`` still says whether one can page on.
    The rows are made unique, so ``stmt`` may eager-load a collection by join.
    """
    statement = page_statement(stmt, count=count, capped=exact_up_to is not None)
    return run_page(statement, page, per_page, exact_up_to=exact_up_to)


def run_page(
    statement: PageStatement,
    page: int,
    per_page: int,
    *,
    exact_up_to: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> Page[Any]:
    """``paginate`` with a ``statement`` built beforehand, and the values of its own ``params``."""
    check_page(page, per_page)
    limit = None if exact_up_to is None else max(exact_up_to, page * per_page)
    values = dict(params or {})
    if limit is not None:
        values["count_limit"] = limit + 1
    page_values = {**values, "page_limit": per_page + 1, "page_offset": (page - 1) * per_page}
    rows = db.session.execute(statement.rows, page_values).unique().all()
    # There is no next page past the deepest one (``check_page`` would refuse it).
    items, more = [row[0] for row in rows[:per_page]], len(rows) > per_page
    has_next, deepest = more and page < last_page(per_page), dict(at_depth_limit=more and page >= last_page(per_page))
    if rows:
        total = rows[0][-1]
    elif page == 1:
        total = 0
    else:
        total = db.session.scalar(statement.total, values) or 0
    if limit is not None and total > limit:
        return Page(items, page, per_page, total=limit, has_next=has_next, total_is_lower_bound=True, **deepest)
    return Page(items, page, per_page, total=total, has_next=has_next, **deepest)
