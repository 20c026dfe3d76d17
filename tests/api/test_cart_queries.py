"""The cart and checkout answers are built from what the request loaded: no row read again per line or order.

Counts are of every statement a request sends (the bearer token's user included) on the test's database;
SQLite sends each of a batch of INSERTs on its own, so the checkout's bound is for either database.
"""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import Api
from tests.conftest import ON_POSTGRES

ADDRESS = {"name": "Ada Buyer", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}


def _three_lines(api: Api, make_world, make_product, make_user):  # type: ignore[no-untyped-def]
    """A buyer's token and 3 products of 2 shops (each with an image, but one)."""
    first = make_world(stock=50)
    second = make_world(shop="B's shop", product="Pan", category=None, deleted=False, stock=50)
    plate = make_product(first.shop, name="Plate", price=Decimal("3.00"), stock=50)
    buyer = make_user(email="buyer@example.com")
    return api.auth(buyer), [first.product.id, plate.id, second.product.id]


def test_a_cart_write_reads_each_table_once_whatever_the_lines(api, make_world, make_product, make_user, queries):
    headers, ids = _three_lines(api, make_world, make_product, make_user)
    counts = []
    for product_id in ids:
        queries.clear()
        response = api.client.put(f"/api/v1/cart/items/{product_id}", headers=headers, json={"quantity": 2})
        assert response.status_code == 200
        counts.append(len(queries))
        for table in ("shops", "product_images"):
            assert len(queries.reading(table)) <= 1, queries.sql
    assert len(response.get_json()["items"]) == 3
    # The first write makes the cart (a savepoint and an INSERT more); then each line costs the same.
    assert counts[0] <= 11 and counts[1] == counts[2] <= 8, counts
    queries.clear()
    assert api.client.get("/api/v1/cart", headers=headers).status_code == 200
    assert len(queries) <= 2, queries.sql


def test_a_checkout_does_not_read_its_orders_again(api, make_world, make_product, make_user, queries):
    headers, ids = _three_lines(api, make_world, make_product, make_user)
    for product_id in ids:
        api.client.put(f"/api/v1/cart/items/{product_id}", headers=headers, json={"quantity": 1})
    queries.clear()
    response = api.client.post("/api/v1/checkout", headers={**headers, "Idempotency-Key": "k1"},
                               json={"shipping_address": ADDRESS})  # fmt: skip
    assert response.status_code == 201
    orders = response.get_json()["orders"]
    assert len(orders) == 2 and sum(len(order["items"]) for order in orders) == 3
    assert all(order["number"].startswith("SA") for order in orders)
    assert queries.reading("orders") == [] and queries.reading("order_items") == [], queries.sql
    assert len(queries.reading("users")) == 2  # the token's user, then both shops' owners at once
    assert len(queries.reading("shops")) <= 1
    # PostgreSQL sends the orders', events' and lines' INSERTs one per table, SQLite one per row.
    assert len(queries) <= (27 if ON_POSTGRES else 31), "\n".join(queries.sql)
