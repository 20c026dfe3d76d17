"""GET /cart, PUT and DELETE /cart/items/{product_id}, DELETE /cart, against the contract."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import assert_problem

CART_FIELDS = {"items", "item_count", "subtotal", "currency"}
ITEM_FIELDS = {"product", "quantity", "unit_price", "line_total", "available"}


def test_an_empty_cart(api, other):
    response = api.get("/cart", as_=other)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"items": [], "item_count": 0, "subtotal": "0.00", "currency": "EUR"}
    assert_problem(api.get("/cart"), 401)


def test_set_quantities_and_read_the_cart(api, other, make_world, make_product):
    world = make_world(price=Decimal("12.50"), stock=4)
    second = make_product(world.shop, name="Plate", price=Decimal("3.00"), stock=10)
    response = api.put(f"/cart/items/{world.product.id}", as_=other, json={"quantity": 2})
    assert response.status_code == 200
    api.put(f"/cart/items/{second.id}", as_=other, json={"quantity": 3})
    body = api.get("/cart", as_=other).get_json()
    assert set(body) == CART_FIELDS and (body["item_count"], body["subtotal"]) == (5, "34.00")
    first = body["items"][0]
    assert set(first) == ITEM_FIELDS
    assert (first["quantity"], first["unit_price"], first["line_total"], first["available"]) == (2, "12.50", "25.00",
                                                                                               True)  # fmt: skip
    product = first["product"]
    assert set(product) == {"id", "name", "slug", "shop", "image"}
    assert product["shop"] == {"id": world.shop.id, "name": "A's shop", "slug": "a-s-shop"}
    assert product["image"]["id"] == world.image.id and product["image"]["position"] == 0
    assert body["items"][1]["product"]["image"] is None
    again = api.put(f"/cart/items/{world.product.id}", as_=other, json={"quantity": 1}).get_json()
    assert again["items"][0]["quantity"] == 1  # sets, does not add
    removed = api.put(f"/cart/items/{second.id}", as_=other, json={"quantity": 0}).get_json()
    assert [item["product"]["id"] for item in removed["items"]] == [world.product.id]


def test_refusals(api, owner, other, make_world):
    world = make_world(owner, stock=3)
    url = f"/cart/items/{world.product.id}"
    body = assert_problem(api.put(url, as_=other, json={"quantity": 4}), 409)
    assert "only 3 left" in body["detail"]
    assert_problem(api.put(url, as_=other, json={"quantity": 100}), 422, "quantity")
    assert_problem(api.put(url, as_=other, json={"quantity": -1}), 422, "quantity")
    assert_problem(api.put(url, as_=other, json={"quantity": "2"}), 422, "quantity")
    assert_problem(api.put(url, as_=other, json={}), 422, "quantity")
    assert_problem(api.put(url, as_=other, json={"quantity": 1, "price": "0.01"}), 422, "price")
    assert_problem(api.put(f"/cart/items/{world.deleted_product.id}", as_=other, json={"quantity": 1}), 404)
    assert_problem(api.put("/cart/items/999999", as_=other, json={"quantity": 1}), 404)
    assert_problem(api.put(url, json={"quantity": 1}), 401)
    assert api.get("/cart", as_=other).get_json()["items"] == []


def test_an_item_that_left_the_catalog_is_unavailable(api, owner, other, make_world):
    world = make_world(owner, stock=3)
    api.put(f"/cart/items/{world.product.id}", as_=other, json={"quantity": 2})
    api.post(f"/products/{world.product.id}/stock", as_=owner, json={"delta": -2})
    item = api.get("/cart", as_=other).get_json()["items"][0]
    assert item["available"] is False and item["quantity"] == 2
    api.post(f"/products/{world.product.id}/stock", as_=owner, json={"delta": 5})
    assert api.get("/cart", as_=other).get_json()["items"][0]["available"] is True
    api.delete(f"/products/{world.product.id}", as_=owner)
    assert api.get("/cart", as_=other).get_json()["items"][0]["available"] is False


def test_delete_an_item_and_empty_the_cart(api, other, make_world, make_product):
    world = make_world()
    second = make_product(world.shop)
    for product in (world.product, second):
        api.put(f"/cart/items/{product.id}", as_=other, json={"quantity": 1})
    response = api.delete(f"/cart/items/{world.product.id}", as_=other)
    assert response.status_code == 200
    assert [item["product"]["id"] for item in response.get_json()["items"]] == [second.id]
    assert api.delete("/cart/items/999999", as_=other).status_code == 200  # not in the cart: nothing to do
    response = api.delete("/cart", as_=other)
    assert response.status_code == 204 and response.data == b""
    assert api.get("/cart", as_=other).get_json()["item_count"] == 0


def test_carts_are_per_user(api, owner, other, make_world):
    world = make_world(owner)
    api.put(f"/cart/items/{world.product.id}", as_=other, json={"quantity": 2})
    assert api.get("/cart", as_=owner).get_json()["items"] == []


def test_cart_writes_keep_the_catalog_copies_and_a_checkout_ends_them(app, client, api, other, make_world):
    """Carts are private tables for the shared cache; a checkout takes stock, which the catalog shows."""
    from shopapp.core.cache.store import EXTENSION

    world = make_world(stock=4)
    cache = app.extensions[EXTENSION]
    path = f"/api/v1/products/{world.product.id}"
    assert client.get(path).get_json()["stock"] == 4
    generation = cache.redis.get(cache.generation_key)
    api.put(f"/cart/items/{world.product.id}", as_=other, json={"quantity": 3})
    api.delete("/cart/items/999", as_=other)
    assert cache.redis.get(cache.generation_key) == generation
    address = {"name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "FR"}
    assert api.post("/checkout", as_=other, json={"shipping_address": address}).status_code == 201
    assert cache.redis.get(cache.generation_key) != generation
    assert client.get(path).get_json()["stock"] == 1
