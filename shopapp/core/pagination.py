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


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def check_page(page: int, per_page: int) -> None:
    if page < 1:
        raise Invalid("must be at least 1", "page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"must be between 1 and {MAX_PER_PAGE}", "per_page")


def paginate(stmt: Select[Any], page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> Page[Any]:
    """Run ``stmt`` (already ordered) for one page, and count all its rows."""
    check_page(page, per_page)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))) if total else []
    return Page(items=items, page=page, per_page=per_page, total=total)
