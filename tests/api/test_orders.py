"""POST /checkout, the order endpoints and their transitions, against the contract."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from shopapp.orders.models import Checkout, Order
from shopapp.products.models import Product
from tests.api.conftest import assert_problem

ADDRESS = {"name": "Ada Buyer", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "fr"}
ORDER_FIELDS = {
    "id", "number", "status", "shop", "buyer", "items", "subtotal", "shipping_fee", "total", "currency",
    "shipping_address", "note", "tracking_number", "created_at", "updated_at", "paid_at", "shipped_at",
    "delivered_at", "cancelled_at",
}  # fmt: skip


@pytest.fixture
def buyer(make_user):  # type: ignore[no-untyped-def]
    return make_user(email="buyer@example.com", name="Ada")


@pytest.fixture
def shops(make_user, make_shop, make_product):  # type: ignore[no-untyped-def]
    """Two owners' shops with a product each: (owner_a, mug, owner_b, pan)."""
    owner_a, owner_b = make_user(email="a@example.com"), make_user(email="b@example.com")
    mug = make_product(make_shop(owner_a, name="Mugs", shipping_fee="4.50"), name="Mug", price=Decimal("10.00"))
    pan = make_product(make_shop(owner_b, name="Pans"), name="Pan", price=Decimal("25.50"), stock=2)
    return owner_a, mug, owner_b, pan


def _fill(api, user, quantities):  # type: ignore[no-untyped-def]
    for product, quantity in quantities.items():
        assert api.put(f"/cart/items/{product.id}", as_=user, json={"quantity": quantity}).status_code == 200


def _checkout(api, user, body=None, key=None):  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post(
        "/checkout", as_=user, json={"shipping_address": ADDRESS} if body is None else body, headers=headers
    )


def test_checkout_answers_one_order_per_shop(api, buyer, shops, fresh):
    _owner_a, mug, _owner_b, pan = shops
    _fill(api, buyer, {mug: 2, pan: 1})
    response = _checkout(api, buyer, {"shipping_address": ADDRESS, "note": "Ring twice", "expected_total": "50.00"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"orders", "total"} and body["total"] == "50.00"
    first, second = body["orders"]
    assert set(first) == ORDER_FIELDS
    assert re.fullmatch(r"SA[A-Z0-9]{2}-\d{6,}", first["number"]) and first["number"] != second["number"]
    assert (first["status"], first["subtotal"], first["shipping_fee"], first["total"]) == ("placed", "20.00", "4.50",
                                                                                          "24.50")  # fmt: skip
    assert first["shop"] == {"id": mug.shop_id, "name": "Mugs", "slug": "mugs"}
    assert first["buyer"] == {"id": buyer.id, "name": "Ada", "email": "buyer@example.com"}
    assert first["items"] == [
        {"product_id": mug.id, "name": "Mug", "unit_price": "10.00", "quantity": 2, "line_total": "20.00"}
    ]
    assert first["shipping_address"] == {**ADDRESS, "country": "FR", "line2": None}
    assert (first["note"], first["tracking_number"], first["paid_at"], first["currency"]) == ("Ring twice", None,
                                                                                             None, "EUR")  # fmt: skip
    assert first["created_at"].endswith("Z")
    assert (second["shop"]["name"], second["total"]) == ("Pans", "25.50")
    assert api.get("/cart", as_=buyer).get_json()["items"] == []
    assert fresh(Product, mug.id).stock == 3 and fresh(Product, pan.id).stock == 1


def test_an_empty_cart_is_422(api, buyer):
    assert_problem(_checkout(api, buyer), 422, "items")


def test_unavailable_items_are_409_naming_each_and_nothing_is_written(api, buyer, shops, row_count, fresh):
    owner_a, mug, owner_b, pan = shops
    _fill(api, buyer, {mug: 1, pan: 2})
    api.post(f"/products/{pan.id}/stock", as_=owner_b, json={"delta": -1})
    api.delete(f"/products/{mug.id}", as_=owner_a)
    body = assert_problem(_checkout(api, buyer), 409)
    assert body["errors"] == [
        {"field": f"items.{mug.id}", "message": "Mug: no longer sold."},
        {"field": f"items.{pan.id}", "message": "Pan: only 1 left."},
    ]
    assert row_count(Order) == 0 and row_count(Checkout) == 0 and fresh(Product, pan.id).stock == 1
    assert api.get("/cart", as_=buyer).get_json()["item_count"] == 3


def test_expected_total_409_when_the_price_changed(api, buyer, shops, row_count):
    owner_a, mug, _, _ = shops
    _fill(api, buyer, {mug: 1})
    api.patch(f"/products/{mug.id}", as_=owner_a, json={"price": "12.00"})
    body = assert_problem(_checkout(api, buyer, {"shipping_address": ADDRESS, "expected_total": "14.50"}), 409)
    assert "16.50" in body["detail"] and row_count(Order) == 0
    assert _checkout(api, buyer, {"shipping_address": ADDRESS, "expected_total": 16.5}).status_code == 201


def test_bad_bodies_are_422_naming_each_field(api, buyer, shops):
    _, mug, _, _ = shops
    _fill(api, buyer, {mug: 1})
    bad = {"name": "", "line1": 5, "city": "x" * 201, "postal_code": "7\x00", "country": "XX", "state": "Y"}
    response = _checkout(api, buyer, {"shipping_address": bad, "note": "n" * 2001, "expected_total": "1.001"})
    assert_problem(response, 422, *[f"shipping_address.{f}" for f in bad], "note", "expected_total")
    assert_problem(_checkout(api, buyer, {}), 422, "shipping_address")
    assert_problem(_checkout(api, buyer, {"shipping_address": {**ADDRESS, "country": "FRA"}}), 422,
                   "shipping_address.country")  # fmt: skip
    lower = _checkout(api, buyer, {"shipping_address": {**ADDRESS, "country": "de", "line2": None}, "note": None})
    assert lower.status_code == 201 and lower.get_json()["orders"][0]["shipping_address"]["country"] == "DE"


def test_idempotency_key_replays_the_first_answer(api, buyer, shops, row_count):
    _, mug, _, pan = shops
    _fill(api, buyer, {mug: 1, pan: 1})
    first = _checkout(api, buyer, key="retry-1")
    assert first.status_code == 201
    reordered = {"shipping_address": dict(reversed(list(ADDRESS.items())))}  # same JSON value
    again = _checkout(api, buyer, reordered, key="retry-1")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert row_count(Order) == 2
    different = _checkout(api, buyer, {"shipping_address": ADDRESS, "note": "other"}, key="retry-1")
    assert_problem(different, 422, "Idempotency-Key")
    assert_problem(_checkout(api, buyer, key="k" * 256), 422, "Idempotency-Key")
    assert row_count(Order) == 2


def test_a_refused_checkout_does_not_keep_its_key(api, buyer, shops):
    _, mug, _, _ = shops
    assert_problem(_checkout(api, buyer, key="again"), 422, "items")  # empty cart
    _fill(api, buyer, {mug: 1})
    assert _checkout(api, buyer, key="again").status_code == 201


def test_lines_are_snapshots(api, buyer, shops):
    owner_a, mug, _, _ = shops
    _fill(api, buyer, {mug: 2})
    order = _checkout(api, buyer).get_json()["orders"][0]
    api.patch(f"/products/{mug.id}", as_=owner_a, json={"name": "Renamed", "price": "1.00"})
    api.delete(f"/products/{mug.id}", as_=owner_a)
    read = api.get(f"/orders/{order['id']}", as_=buyer).get_json()
    assert read["items"] == order["items"] and read["total"] == order["total"] == "24.50"


def test_an_order_is_private_to_its_buyer_and_its_shops_owner(api, buyer, shops, make_user):
    owner_a, mug, owner_b, _ = shops
    _fill(api, buyer, {mug: 1})
    order = _checkout(api, buyer).get_json()["orders"][0]
    assert api.get(f"/orders/{order['id']}", as_=buyer).get_json() == order
    assert api.get(f"/orders/{order['id']}", as_=owner_a).get_json()["buyer"]["email"] == "buyer@example.com"
    for stranger in (owner_b, make_user()):
        body = assert_problem(api.get(f"/orders/{order['id']}", as_=stranger), 404)
        assert "buyer@example.com" not in str(body)
        assert_problem(api.post(f"/orders/{order['id']}/cancel", as_=stranger), 404)
    assert_problem(api.get(f"/orders/{order['id']}"), 401)
    assert_problem(api.get(f"/shops/{mug.shop_id}/orders", as_=owner_b), 403)
    assert_problem(api.get("/shops/999999/orders", as_=owner_b), 404)
    assert api.delete(f"/shops/{mug.shop_id}", as_=owner_a).status_code == 204
    assert_problem(api.get(f"/shops/{mug.shop_id}/orders", as_=owner_a), 404)  # a deleted shop's list is gone
    assert api.get(f"/orders/{order['id']}", as_=owner_a).status_code == 200  # its orders stay readable
    assert api.get("/users/me/orders", as_=owner_b).get_json()["items"] == []


# (who, status the order is in, action) -> status; everything the matrix leaves out is the contract's default.
def _expected(who: str, status: str, action: str) -> int:
    allowed_owner = {"placed": {"mark-paid", "cancel"}, "paid": {"ship", "cancel"}, "shipped": {"deliver"}}
    if who in ("stranger", "other owner"):
        return 404
    if who == "owner":
        return 200 if action in allowed_owner.get(status, set()) else 409
    if action != "cancel":
        return 403
    return 200 if status == "placed" else 409


TO_STATUS = {"placed": [], "paid": ["mark-paid"], "shipped": ["mark-paid", "ship"],
             "delivered": ["mark-paid", "ship", "deliver"], "cancelled": ["cancel"]}  # fmt: skip


def test_transitions_matrix(api, buyer, make_user, make_product, fresh):
    """Every (status, action, actor): the refused ones first on one order (a refusal changes nothing, which the
    stock and the status read back prove), then a fresh order for each that succeeds."""
    product = make_product(stock=99)
    owner, stranger = product.shop.owner, make_user()
    other_owner = make_product().shop.owner  # owns a shop, not this one: a stranger to the order
    actors = {"stranger": stranger, "other owner": other_owner, "buyer": buyer, "owner": owner}

    def order_in(status: str) -> int:
        _fill(api, buyer, {product: 1})
        order_id = _checkout(api, buyer).get_json()["orders"][0]["id"]
        for step in TO_STATUS[status]:
            assert api.post(f"/orders/{order_id}/{step}", as_=owner).status_code == 200
        return order_id

    wrong = []
    for status in TO_STATUS:
        for action in ("mark-paid", "ship", "deliver", "cancel"):
            order_id = order_in(status)
            stock = fresh(Product, product.id).stock
            assert_problem(api.post(f"/orders/{order_id}/{action}"), 401)
            for who, user in actors.items():
                response = api.post(f"/orders/{order_id}/{action}", as_=user)
                if response.status_code != _expected(who, status, action):
                    wrong.append((who, status, action, response.status_code))
                elif response.status_code == 409:
                    assert response.get_json()["detail"].startswith(f"This order is {status}; it cannot be ")
                if response.status_code == 200:
                    order_id = order_in(status)  # the next actor tries from the same status again
                else:
                    assert api.get(f"/orders/{order_id}", as_=owner).get_json()["status"] == status
                    assert fresh(Product, product.id).stock == stock
                stock = fresh(Product, product.id).stock
    assert wrong == []


def test_fulfilment_path_with_tracking_and_timestamps(api, buyer, shops, fresh):
    owner_a, mug, _, _ = shops
    _fill(api, buyer, {mug: 2})
    order_id = _checkout(api, buyer).get_json()["orders"][0]["id"]
    paid = api.post(f"/orders/{order_id}/mark-paid", as_=owner_a).get_json()
    assert paid["status"] == "paid" and paid["paid_at"]
    shipped = api.post(f"/orders/{order_id}/ship", as_=owner_a, json={"tracking_number": "TRK 123"}).get_json()
    assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "TRK 123") and shipped["shipped_at"]
    body = assert_problem(api.post(f"/orders/{order_id}/mark-paid", as_=owner_a), 409)
    assert body["detail"] == "This order is shipped; it cannot be marked paid."
    delivered = api.post(f"/orders/{order_id}/deliver", as_=owner_a).get_json()
    assert delivered["status"] == "delivered" and delivered["delivered_at"]
    assert_problem(api.post(f"/orders/{order_id}/cancel", as_=owner_a, json={"reason": "late"}), 409)
    assert fresh(Product, mug.id).stock == 3


def test_cancel_puts_stock_back_once(api, buyer, shops, fresh):
    owner_a, mug, _, _ = shops
    _fill(api, buyer, {mug: 2})
    order_id = _checkout(api, buyer).get_json()["orders"][0]["id"]
    response = api.post(f"/orders/{order_id}/cancel", as_=buyer, json={"reason": "Changed my mind"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["cancelled_at"]
    assert fresh(Product, mug.id).stock == 5
    assert_problem(api.post(f"/orders/{order_id}/cancel", as_=owner_a), 409)
    assert fresh(Product, mug.id).stock == 5


def test_transition_bodies_are_checked(api, buyer, shops):
    owner_a, mug, _, _ = shops
    _fill(api, buyer, {mug: 1})
    order_id = _checkout(api, buyer).get_json()["orders"][0]["id"]
    api.post(f"/orders/{order_id}/mark-paid", as_=owner_a)
    assert_problem(api.post(f"/orders/{order_id}/ship", as_=owner_a, json={"tracking_number": 5}), 422,
                   "tracking_number")  # fmt: skip
    assert_problem(api.post(f"/orders/{order_id}/ship", as_=owner_a, json={"carrier": "x"}), 422, "carrier")
    assert_problem(api.post(f"/orders/{order_id}/cancel", as_=owner_a, json={"reason": "r" * 2001}), 422, "reason")
    assert_problem(api.post(f"/orders/{order_id}/ship", as_=owner_a, data="x", content_type="text/plain"), 415)
    assert api.post(f"/orders/{order_id}/ship", as_=owner_a, json={}).get_json()["tracking_number"] is None


def test_lists_newest_first_with_filters(api, buyer, make_user, make_product):
    product = make_product(stock=50)
    owner = product.shop.owner
    bob = make_user(email="bob@example.com")
    ids = []
    for user in (buyer, bob, buyer):
        _fill(api, user, {product: 1})
        ids.append(_checkout(api, user).get_json()["orders"][0])
    api.post(f"/orders/{ids[0]['id']}/mark-paid", as_=owner)
    listed = api.get(f"/shops/{product.shop_id}/orders", as_=owner).get_json()
    assert set(listed) == {"items", "page", "per_page", "total", "pages", "total_is_lower_bound"}
    assert [o["id"] for o in listed["items"]] == [o["id"] for o in ids][::-1] and listed["total"] == 3

    def shop_ids(query: str) -> list[int]:
        response = api.get(f"/shops/{product.shop_id}/orders?{query}", as_=owner)
        assert response.status_code == 200, response.get_json()
        return [o["id"] for o in response.get_json()["items"]]

    assert shop_ids("status=paid") == [ids[0]["id"]]
    assert shop_ids("q=BOB") == [ids[1]["id"]]
    assert shop_ids(f"q={ids[2]['number'].lower()}") == [ids[2]["id"]]
    assert shop_ids("per_page=1&page=2") == [ids[1]["id"]]
    mine = api.get("/users/me/orders", as_=buyer).get_json()
    assert [o["id"] for o in mine["items"]] == [ids[2]["id"], ids[0]["id"]]
    assert [o["id"] for o in api.get("/users/me/orders?status=paid", as_=buyer).get_json()["items"]] == [ids[0]["id"]]
    assert_problem(api.get("/users/me/orders?status=lost", as_=buyer), 422, "status")
    assert_problem(api.get(f"/shops/{product.shop_id}/orders?sort=new", as_=owner), 422, "sort")


def test_shop_gets_shipping_fee_in_the_api(api, owner):
    shop = api.post("/shops", as_=owner, json={"name": "Fees", "shipping_fee": 3}).get_json()
    assert shop["shipping_fee"] == "3.00"


def test_order_lists_take_the_same_queries_for_one_order_or_many(api, buyer, make_product, queries):
    product = make_product(stock=50)
    owner = product.shop.owner

    def counted(path: str, user) -> int:  # type: ignore[no-untyped-def]
        token = api.auth(user)
        queries.clear()
        assert api.get(path, headers=token).status_code == 200
        return len(queries)

    _fill(api, buyer, {product: 1})
    _checkout(api, buyer)
    one = counted(f"/shops/{product.shop_id}/orders", owner), counted("/users/me/orders", buyer)
    for _ in range(3):
        _fill(api, buyer, {product: 1})
        _checkout(api, buyer)
    assert (counted(f"/shops/{product.shop_id}/orders", owner), counted("/users/me/orders", buyer)) == one
