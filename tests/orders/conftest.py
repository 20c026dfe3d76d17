"""Helpers for the orders tests: a buyer with a cart over shops with fees, and the service calls in contexts of
their own (each commits, as the page or API edge would)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from shopapp.extensions import db
from shopapp.orders import carts, services

ADDRESS = {"name": "Ada Buyer", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "fr"}
BODY = {"shipping_address": ADDRESS}


@pytest.fixture
def tx(app: Flask) -> Callable[[], Any]:
    """``with tx():`` an app context whose work is committed at the end (rolled back on an error)."""

    @contextmanager
    def context() -> Iterator[None]:
        with app.app_context():
            yield
            db.session.commit()

    return context


@pytest.fixture
def fill(tx):  # type: ignore[no-untyped-def]
    """``fill(user, {product: quantity, ...})``: put products in the user's cart."""

    def put(user, quantities: dict[Any, int]) -> None:  # type: ignore[no-untyped-def]
        with tx():
            for product, quantity in quantities.items():
                carts.set_quantity(carts.holder_for(user, None), product.id, quantity)

    return put


@pytest.fixture
def place(tx):  # type: ignore[no-untyped-def]
    """``place(user, body=BODY, key=None)``: check out and return [(order id, number, total)]."""

    def run(user, body: dict[str, Any] | None = None, key: str | None = None) -> list[tuple[int, str, Decimal]]:  # type: ignore[no-untyped-def]
        with tx():
            result = services.checkout(user, body or BODY, idempotency_key=key)
            return [(order.id, order.number, order.total) for order in result.orders]

    return run


@pytest.fixture
def two_shops(make_user, make_shop, make_product):  # type: ignore[no-untyped-def]
    """Two owners, each a shop with a fee and a product: (owner_a, mug, owner_b, pan)."""
    owner_a, owner_b = make_user(name="Alice"), make_user(name="Bob")
    mug = make_product(
        make_shop(owner_a, name="Mugs", shipping_fee="4.50"), name="Mug", price=Decimal("10.00"), stock=5
    )
    pan = make_product(make_shop(owner_b, name="Pans", shipping_fee="0"), name="Pan", price=Decimal("25.50"), stock=2)
    return owner_a, mug, owner_b, pan
