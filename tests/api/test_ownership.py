"""Every mutating API route by {owner, another user, anonymous}, generated from the URL map so a new
route cannot be forgotten; a refused request leaves the row exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shopapp.categories.models import Category
from shopapp.products.models import Product, ProductImage
from shopapp.shops.models import Shop
from tests.conftest import World

READ_ONLY = {"GET", "HEAD", "OPTIONS"}
PUBLIC = {("api.register", "POST"), ("api.login", "POST")}  # tested in test_users.py
# owner / other / anonymous in test_images.py
MULTIPART = {("api.upload_image", "POST"), ("api.upload_images", "POST")}
# buyer / shop owner / another owner / anyone else / anonymous on an order, in test_orders.py's matrix
ORDER_TRANSITIONS = {
    ("api.cancel_order", "POST"),
    ("api.mark_order_paid", "POST"),
    ("api.ship_order", "POST"),
    ("api.deliver_order", "POST"),
}


def _row_counts(row_count) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {model.__name__: row_count(model) for model in (Shop, Product, Category, ProductImage)}


@dataclass(frozen=True)
class Case:
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any] | None]
    target: Callable[[World], Any] | None
    owner: int
    other: int
    anonymous: int = 401


def _none(world: World) -> None:
    return None


CASES: dict[tuple[str, str], Case] = {
    ("api.create_shop", "POST"): Case(lambda w: "/shops", lambda w: {"name": "New"}, None, 201, 201),
    ("api.update_shop", "PUT"): Case(
        lambda w: f"/shops/{w.shop.id}", lambda w: {"name": "X"}, lambda w: w.shop, 200, 403
    ),
    ("api.update_shop", "PATCH"): Case(
        lambda w: f"/shops/{w.shop.id}", lambda w: {"name": "X"}, lambda w: w.shop, 200, 403
    ),
    ("api.delete_shop", "DELETE"): Case(lambda w: f"/shops/{w.shop.id}", _none, lambda w: w.shop, 204, 403),
    ("api.restore_shop", "POST"): Case(
        lambda w: f"/shops/{w.deleted_shop.id}/restore", _none, lambda w: w.deleted_shop, 200, 404
    ),
    ("api.create_category", "POST"): Case(lambda w: "/categories", lambda w: {"name": "New"}, None, 201, 201),
    ("api.update_category", "PUT"): Case(
        lambda w: f"/categories/{w.category.id}", lambda w: {"name": "X"}, lambda w: w.category, 200, 403
    ),
    ("api.update_category", "PATCH"): Case(
        lambda w: f"/categories/{w.category.id}", lambda w: {"name": "X"}, lambda w: w.category, 200, 403
    ),
    ("api.delete_category", "DELETE"): Case(
        lambda w: f"/categories/{w.category.id}", _none, lambda w: w.category, 204, 403
    ),
    ("api.create_product", "POST"): Case(
        lambda w: "/products",
        lambda w: {"shop_id": w.shop.id, "name": "New", "price": "1", "stock": 1},
        lambda w: w.shop,
        201,
        403,
    ),
    ("api.update_product", "PUT"): Case(
        lambda w: f"/products/{w.product.id}", lambda w: {"price": "0.01"}, lambda w: w.product, 200, 403
    ),
    ("api.update_product", "PATCH"): Case(
        lambda w: f"/products/{w.product.id}", lambda w: {"price": "0.01"}, lambda w: w.product, 200, 403
    ),
    ("api.delete_product", "DELETE"): Case(lambda w: f"/products/{w.product.id}", _none, lambda w: w.product, 204, 403),
    ("api.restore_product", "POST"): Case(
        lambda w: f"/products/{w.deleted_product.id}/restore", _none, lambda w: w.deleted_product, 200, 404
    ),
    ("api.adjust_stock", "POST"): Case(
        lambda w: f"/products/{w.product.id}/stock", lambda w: {"delta": 1}, lambda w: w.product, 200, 403
    ),
    ("api.bulk_edit_products", "POST"): Case(
        lambda w: f"/shops/{w.shop.id}/products/bulk",
        lambda w: {"action": "set_stock", "product_ids": [w.product.id], "value": 0},
        lambda w: w.product,
        200,
        403,
    ),
    ("api.delete_image", "DELETE"): Case(
        lambda w: f"/products/{w.product.id}/images/{w.image.id}", _none, lambda w: w.image, 204, 403
    ),
    ("api.update_image", "PATCH"): Case(
        lambda w: f"/products/{w.product.id}/images/{w.image.id}",
        lambda w: {"alt": "planted"},
        lambda w: w.image,
        200,
        403,
    ),
    ("api.order_images", "PUT"): Case(
        lambda w: f"/products/{w.product.id}/images/order",
        lambda w: {"image_ids": [w.image.id]},
        lambda w: w.image,
        200,
        403,
    ),
    ("api.logout", "POST"): Case(lambda w: "/users/logout", _none, None, 204, 204),
    # Each caller has a cart of their own: another user changes theirs, never the owner's.
    ("api.set_cart_item", "PUT"): Case(
        lambda w: f"/cart/items/{w.product.id}", lambda w: {"quantity": 1}, lambda w: w.product, 200, 200
    ),
    ("api.delete_cart_item", "DELETE"): Case(lambda w: f"/cart/items/{w.product.id}", _none, None, 200, 200),
    ("api.clear_cart", "DELETE"): Case(lambda w: "/cart", _none, None, 204, 204),
    # An empty cart: nothing placed, the product's stock untouched.
    ("api.checkout", "POST"): Case(
        lambda w: "/checkout",
        lambda w: {"shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "FR"}},
        lambda w: w.product,
        422,
        422,
    ),
}


def test_every_mutating_api_route_is_in_the_matrix(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods or ()
        if method not in READ_ONLY
    }
    assert routes - PUBLIC - MULTIPART - ORDER_TRANSITIONS == set(CASES)


@pytest.fixture
def world(make_world, owner) -> World:  # type: ignore[no-untyped-def]
    return make_world(owner)


@pytest.mark.parametrize("actor", ["owner", "other", "anonymous"])
@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[1]} {r[0]}")
def test_ownership_matrix(api, world, owner, other, snapshot, row_count, route, actor):
    case = CASES[route]
    method = route[1]
    as_ = {"owner": owner, "other": other, "anonymous": None}[actor]
    expected = {"owner": case.owner, "other": case.other, "anonymous": case.anonymous}[actor]
    target = case.target(world) if case.target else None
    before = snapshot(target) if target is not None else None
    counts = _row_counts(row_count)

    response = api.call(method, case.path(world), as_=as_, json=case.body(world))

    assert response.status_code == expected, response.get_data(as_text=True)
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
        assert _row_counts(row_count) == counts  # nothing created or removed
        if target is not None:
            assert snapshot(target) == before
