"""A shop's orders as CSV for bookkeeping: one row per order, streamed, filters as in the owner's list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import selectinload

from shopapp.auth.models import User
from shopapp.core.csv_cells import csv_chunk, escape_cell
from shopapp.extensions import db
from shopapp.orders import services
from shopapp.orders.models import Order

COLUMNS = (
    "number", "created_at", "status", "buyer_name", "buyer_email", "ship_name", "ship_line1", "ship_line2",
    "ship_city", "ship_postal_code", "ship_country", "items", "subtotal", "shipping_fee", "total", "currency",
    "note", "tracking_number", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "cancel_reason",
)  # fmt: skip
_BATCH = 500


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if hasattr(value, "quantize"):
        return f"{value:.2f}"  # an amount is a number, not text: never escaped
    return escape_cell(str(value))


def _row(order: Order) -> list[str]:
    items = "; ".join(f"{item.quantity} x {item.name} @ {item.unit_price:.2f}" for item in order.items)
    values = [items if column == "items" else getattr(order, column) for column in COLUMNS]
    return [_cell(value) for value in values]


def export_shop_orders_csv(
    user: User, shop_id: int, *, status: str | None = None, q: str | None = None
) -> Iterator[str]:
    """The shop's orders, newest first, as CSV lines (header first). Ownership and filters are checked at once
    (Forbidden / NotFound / Invalid before any line); the rows are read in batches as the lines are consumed,
    so a response streaming them must keep the app context (``stream_with_context``)."""
    stmt = services.shop_orders_query(user, shop_id, status, q).options(selectinload(Order.items))

    def lines() -> Iterator[str]:
        yield csv_chunk([COLUMNS])
        offset = 0
        while True:
            batch = list(db.session.scalars(stmt.limit(_BATCH).offset(offset)))
            for order in batch:
                yield csv_chunk([_row(order)])
            if len(batch) < _BATCH:
                return
            offset += _BATCH

    return lines()
