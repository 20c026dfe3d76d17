"""One page of a list, the same shape for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from shopapp.core.errors import Invalid
from shopapp.extensions import db

T = TypeVar("T")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# Lists that can grow with the catalog count their rows only this far (see ``paginate``).
EXACT_TOTAL_UP_TO = 1_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """``total`` is exact, unless ``total_is_lower_bound``: then there are more rows than that.

    ``has_next`` says whether a row follows this page (one more row is read to know), so it is
    right even where the total is only a lower bound.
    """

    items: list[T]
    page: int
    per_page: int
    total: int
    has_next: bool = False
    total_is_lower_bound: bool = False

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def check_page(page: int, per_page: int) -> None:
    if page < 1:
        raise Invalid("must be at least 1", "page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"must be between 1 and {MAX_PER_PAGE}", "per_page")


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
    check_page(page, per_page)
    counted = (stmt if count is None else count).order_by(None)
    limit = None if exact_up_to is None else max(exact_up_to, page * per_page)
    if limit is not None:
        counted = counted.limit(limit + 1)
    total_of = select(func.count()).select_from(counted.subquery())
    rows = db.session.execute(
        stmt.add_columns(total_of.scalar_subquery()).limit(per_page + 1).offset((page - 1) * per_page)
    ).unique().all()
    items, has_next = [row[0] for row in rows[:per_page]], len(rows) > per_page
    if rows:
        total = rows[0][-1]
    elif page == 1:
        total = 0
    else:
        total = db.session.scalar(total_of) or 0
    if limit is not None and total > limit:
        return Page(items, page, per_page, total=limit, has_next=has_next, total_is_lower_bound=True)
    return Page(items, page, per_page, total=total, has_next=has_next)
