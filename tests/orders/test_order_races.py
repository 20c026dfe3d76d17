"""Real concurrent checkouts on PostgreSQL: the conditional UPDATEs, not luck, keep the stock right."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from shopapp.auth.tokens import issue_access_token
from shopapp.extensions import db
from shopapp.orders.models import Checkout, Order, OrderEvent
from shopapp.products.models import Product
from tests.orders.conftest import BODY

pytestmark = pytest.mark.postgres_only


def at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in a thread of its own, all released together; what each returned."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as exc:  # pragma: no cover - shows in the assertion
            outcomes[index] = f"error: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _headers(app: Flask, user: Any) -> dict[str, str]:
    with app.app_context():
        return {"Authorization": f"Bearer {issue_access_token(user).access_token}"}


def _post(app: Flask, url: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    """From a client of its own (its own app context and session per request, as under a server)."""
    response = app.test_client().post(url, json=body, headers=headers)
    return response.status_code, response.get_json()


def _fill(app: Flask, headers: dict[str, str], product_id: int, quantity: int) -> None:
    response = app.test_client().put(f"/api/v1/cart/items/{product_id}", json={"quantity": quantity}, headers=headers)
    assert response.status_code == 200, response.get_json()


def test_fifty_buyers_racing_for_the_last_five_units(app, make_user, make_product, fresh, row_count):
    product = make_product(stock=5)
    buyers = [_headers(app, make_user()) for _ in range(50)]
    for headers in buyers:
        _fill(app, headers, product.id, 1)
    outcomes = at_once([lambda h=h: _post(app, "/api/v1/checkout", h, BODY) for h in buyers])
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == Counter({201: 5, 409: 45}), outcomes
    refused = [body for status, body in outcomes if status == 409]
    assert all(body["errors"][0]["field"] == f"items.{product.id}" for body in refused)
    stored = fresh(Product, product.id)
    assert stored.stock == 0 and stored.version == product.version + 5
    assert row_count(Order) == 5 and row_count(Checkout) == 5
    print(f"race: {statuses[201]} units sold, {statuses[409]} refused with 409, stock left {stored.stock}")


def test_two_cancels_at_once_put_the_stock_back_once(app, make_user, make_product, fresh, row_count):
    product = make_product(stock=5)
    buyer = _headers(app, make_user())
    owner = _headers(app, product.shop.owner)
    _fill(app, buyer, product.id, 3)
    status, body = _post(app, "/api/v1/checkout", buyer, BODY)
    assert status == 201 and fresh(Product, product.id).stock == 2
    url = f"/api/v1/orders/{body['orders'][0]['id']}/cancel"
    for _ in range(3):  # the race is short: try it a few times with fresh orders
        outcomes = at_once([lambda u=url: _post(app, u, owner), lambda u=url: _post(app, u, buyer)])
        assert sorted(status for status, _ in outcomes) == [200, 409], outcomes
        assert fresh(Product, product.id).stock == 5
        _fill(app, buyer, product.id, 3)
        status, body = _post(app, "/api/v1/checkout", buyer, BODY)
        url = f"/api/v1/orders/{body['orders'][0]['id']}/cancel"
        assert fresh(Product, product.id).stock == 2
    assert row_count(OrderEvent) == 4 * 1 + 3 * 1  # each order: placed; the three cancelled once each


def test_one_idempotency_key_sent_ten_times_at_once_places_one_set_of_orders(
    app, make_user, make_shop, make_product, fresh, row_count
):
    first, second = make_product(make_shop(), stock=10), make_product(make_shop(), stock=10)
    buyer = _headers(app, make_user())
    _fill(app, buyer, first.id, 2)
    _fill(app, buyer, second.id, 1)
    keyed = {**buyer, "Idempotency-Key": "same-checkout"}
    outcomes = at_once([lambda: _post(app, "/api/v1/checkout", keyed, BODY) for _ in range(10)])
    assert [status for status, _ in outcomes] == [201] * 10, outcomes
    assert len({str(body) for _, body in outcomes}) == 1  # every answer is the first one
    assert row_count(Order) == 2 and row_count(Checkout) == 1
    assert fresh(Product, first.id).stock == 8 and fresh(Product, second.id).stock == 9


def test_a_stale_orm_copy_meets_no_stale_data_error_after_a_concurrent_checkout(app, make_user, make_product,
                                                                                 fresh):  # fmt: skip
    """The owner edits the product from a copy read before a checkout took stock in another transaction: the
    owner's edit locks the row and saves (the version it checks is current), the stock taken stays taken."""
    from shopapp.products import services as products

    product = make_product(stock=5)
    buyer = _headers(app, make_user())
    _fill(app, buyer, product.id, 2)
    assert _post(app, "/api/v1/checkout", buyer, BODY)[0] == 201
    with app.app_context():
        products.update_product(product.shop.owner, product.id, {"name": "Renamed"})
        db.session.commit()
    stored = fresh(Product, product.id)
    assert (stored.name, stored.stock) == ("Renamed", 3)


def test_ten_first_puts_of_one_product_into_a_new_cart_at_once(app, make_user, make_product, row_count):
    """A double click on "add to cart": the cart row and the line are each made once, every request succeeds."""
    from shopapp.orders.models import Cart, CartItem

    product = make_product(stock=50)
    buyer = _headers(app, make_user())
    url = f"/api/v1/cart/items/{product.id}"
    outcomes = at_once([lambda: app.test_client().put(url, json={"quantity": 2}, headers=buyer).status_code] * 10)
    assert outcomes == [200] * 10
    assert row_count(Cart) == 1 and row_count(CartItem) == 1
