"""The owner's products as CSV, in the columns the import reads back (issue 17), streamed in keyset batches.

One row per product, ordered by id: the SKU, name, description, price as a plain decimal (``12.50``), stock,
the category as its path (``Home & Kitchen > Mugs``, empty for none) and ``is_active`` as ``true``/``false``.
Text cells go through ``core.csv_cells.escape_cell`` (formula injection), numbers never do. Only the columns
the file needs are read, ``BATCH`` rows at a time after the last id seen, so memory stays flat whatever the
number of products (bench/export.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shopapp.auth.models import User
from shopapp.categories.services import category_paths
from shopapp.core.csv_cells import csv_chunk, escape_cell
from shopapp.extensions import db
from shopapp.products import services
from shopapp.products.models import Product
from shopapp.shops.services import get_owned_shop

COLUMNS = ("sku", "name", "description", "price", "stock", "category", "is_active")
BATCH = 1000
_READ = (
    Product.id,
    Product.sku,
    Product.name,
    Product.description,
    Product.price,
    Product.stock,
    Product.category_id,
    Product.is_active,
)


def export_products_csv(
    user: User, *, shop_id: int | None = None, status: str = "active", q: str | None = None, sku: str | None = None
) -> Iterator[str]:
    """The owner's products (of ``shop_id``, or of all their shops), filtered as the dashboard's table filters
    them, as CSV text in chunks, the header first. The shop's ownership and the filters are checked at once
    (NotFound / Forbidden / Invalid before any chunk); the rows are read as the chunks are consumed, so a
    response streaming them must keep the app context (``stream_with_context``)."""
    if shop_id is not None:
        get_owned_shop(user, shop_id)
    owned = services.owned_products(user, status=status, shop_id=shop_id, q=q, sku=sku)
    stmt = owned.with_only_columns(*_READ).order_by(Product.id).limit(BATCH)

    def chunks() -> Iterator[str]:
        yield csv_chunk([COLUMNS])
        paths: dict[int, str] = {}
        after = 0
        while True:
            rows = db.session.execute(stmt.where(Product.id > after)).all()
            paths.update(category_paths({r.category_id for r in rows if r.category_id is not None} - paths.keys()))
            yield csv_chunk(_cells(row, paths) for row in rows)
            if len(rows) < BATCH:
                return
            after = rows[-1].id

    return chunks()


def _cells(row: Any, paths: dict[int, str]) -> tuple[str, ...]:
    category = "" if row.category_id is None else paths[row.category_id]
    return (
        escape_cell(row.sku or ""),
        escape_cell(row.name),
        escape_cell(row.description),
        f"{row.price:.2f}",
        str(row.stock),
        escape_cell(category),
        "true" if row.is_active else "false",
    )
