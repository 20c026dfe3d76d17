"""The catalog and product endpoints: create, read with ETag, edit with If-Match, delete, restore, stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from shopapp.api.fields import _timestamp
from shopapp.extensions import db
from tests.api.conftest import assert_problem

PRODUCT_FIELDS = {
    "id", "shop_id", "category_id", "name", "slug", "sku", "description", "price", "currency", "stock", "is_active",
    "created_at", "updated_at", "images", "shop", "category",
}  # fmt: skip


def _create(api, user, shop, **fields):
    return api.post(
        "/products", as_=user, json={"shop_id": shop.id, "name": "Mug", "price": "19.99", "stock": 3, **fields}
    )


def test_create_product_in_own_shop(api, owner, make_shop, make_category):
    shop = make_shop(owner, name="Shop")
    category = make_category(owner, name="Kitchen")
    response = _create(api, owner, shop, category_id=category.id, description="Blue")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == PRODUCT_FIELDS
    assert body["price"] == "19.99" and body["currency"] == "EUR" and body["stock"] == 3
    assert body["shop"] == {"id": shop.id, "name": "Shop", "slug": "shop"}
    assert body["category"] == {"id": category.id, "name": "Kitchen", "slug": "kitchen"}
    assert body["images"] == [] and body["is_active"] is True
    assert response.headers["ETag"] == f'"{body["id"]}-1"'


def test_price_is_exact_from_a_number_or_a_string(api, owner, make_shop):
    shop = make_shop(owner)
    cases = {"0.1": "0.10", 0.1: "0.10", 19.99: "19.99", 5: "5.00", "1000000": "1000000.00", 0: "0.00", "7.5": "7.50"}
    for n, (given, shown) in enumerate(cases.items()):
        response = _create(api, owner, shop, name=f"P{n}", price=given)
        assert response.status_code == 201, (given, response.get_json())
        assert response.get_json()["price"] == shown
    stored = api.get("/products?sort=price_asc&per_page=100").get_json()["items"]
    assert [p["price"] for p in stored][:2] == ["0.00", "0.10"]


def test_create_product_errors(api, owner, other, make_shop, make_product):
    shop = make_shop(owner)
    theirs = make_shop(other)
    assert_problem(_create(api, owner, theirs), 403)
    body = assert_problem(
        api.post("/products", as_=owner, json={"shop_id": 999999, "name": "X", "price": 1, "stock": 1}), 422, "shop_id"
    )
    assert body["errors"][0]["message"] == "refers to a shop that does not exist"
    assert_problem(_create(api, owner, shop, category_id=999999), 422, "category_id")
    assert_problem(api.post("/products", as_=owner, json={"name": "X"}), 422, "shop_id", "price", "stock")
    make_product(shop, name="Mug")
    assert_problem(_create(api, owner, shop, name="MUG"), 409)
    assert_problem(_create(api, None, shop), 401)


def test_catalog_filters_sorts_and_pages(api, owner, make_shop, make_product, make_category):
    shop, second = make_shop(owner, name="One"), make_shop(owner, name="Two")
    kitchen = make_category(owner, name="Kitchen")
    mugs = make_category(owner, name="Mugs", parent_id=kitchen.id)
    make_product(shop, name="Cheap Mug", price=Decimal("2.50"), stock=0, category_id=mugs.id)
    make_product(shop, name="Pan", price=Decimal("30.00"), stock=4, category_id=kitchen.id)
    make_product(second, name="Book", price=Decimal("12.00"), stock=1)
    make_product(shop, name="Hidden", is_active=False)

    def names(query: str) -> list[str]:
        response = api.get("/products" + query)
        assert response.status_code == 200, response.get_json()
        return [p["name"] for p in response.get_json()["items"]]

    assert sorted(names("")) == ["Book", "Cheap Mug", "Pan"]
    assert names("?sort=price_asc") == ["Cheap Mug", "Book", "Pan"]
    assert names("?sort=price_desc") == ["Pan", "Book", "Cheap Mug"]
    assert names("?sort=name") == ["Book", "Cheap Mug", "Pan"]
    assert sorted(names(f"?category_id={kitchen.id}")) == ["Cheap Mug", "Pan"]  # descendants included
    assert names(f"?category_id={mugs.id}") == ["Cheap Mug"]
    assert names(f"?shop_id={second.id}") == ["Book"]
    assert names("?in_stock=true&sort=name") == ["Book", "Pan"]
    assert names("?in_stock=false&sort=name") == ["Book", "Cheap Mug", "Pan"]
    assert names("?min_price=10&max_price=29.99") == ["Book"]
    page = api.get("/products?sort=name&per_page=2&page=2").get_json()
    assert [p["name"] for p in page["items"]] == ["Pan"]
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 2, 3, 2)
    assert api.get("/products?page=50").get_json()["items"] == []


def test_catalog_passes_q_to_the_search_service(api, monkeypatch):
    from shopapp.api import products as api_products

    seen = []
    real = api_products.catalog.search_catalog
    monkeypatch.setattr(api_products.catalog, "search_catalog", lambda query: seen.append(query) or real(query))
    assert api.get("/products?q=pho&sort=relevance").status_code == 200
    assert seen[0].q == "pho" and seen[0].sort == "relevance"


def test_catalog_query_errors_name_the_parameter(api):
    assert_problem(api.get("/products?sort=cheapest"), 422, "sort")
    assert_problem(api.get("/products?per_page=100000"), 422, "per_page")
    assert_problem(api.get("/products?per_page=0"), 422, "per_page")
    assert_problem(api.get("/products?page=0"), 422, "page")
    assert_problem(api.get("/products?page=1.5&in_stock=yes"), 422, "page", "in_stock")
    assert_problem(api.get("/products?min_price=abc&max_price=-0.01"), 422, "min_price", "max_price")
    assert_problem(api.get("/products?min_price=NaN&max_price=1e309"), 422, "min_price", "max_price")
    assert_problem(api.get("/products?category_id=99999999999999999999"), 422, "category_id")
    assert_problem(api.get("/products?q=a%00b"), 422, "q")
    assert_problem(api.get("/products?page=1&page=2"), 400)
    assert_problem(api.get("/products?q=%ff"), 400)


def test_get_product_with_etag_and_visibility(api, owner, other, make_shop, make_product):
    shop = make_shop(owner)
    product = make_product(shop, name="Mug")
    hidden = make_product(shop, name="Hidden", is_active=False)
    response = api.get(f"/products/{product.id}")
    assert response.status_code == 200 and response.headers["ETag"] == f'"{product.id}-1"'
    assert set(response.get_json()) == PRODUCT_FIELDS
    assert_problem(api.get(f"/products/{hidden.id}"), 404)
    assert_problem(api.get(f"/products/{hidden.id}", as_=other), 404)
    assert api.get(f"/products/{hidden.id}", as_=owner).status_code == 200
    assert_problem(api.get("/products/99999"), 404)
    assert_problem(api.get("/products/0"), 404)
    assert_problem(api.get("/products/99999999999999999999"), 404)


def test_update_product_and_the_etag_moves(api, owner, make_shop, make_product, make_category):
    shop = make_shop(owner)
    product = make_product(shop, name="Mug")
    category = make_category(owner, name="Kitchen")
    response = api.patch(
        f"/products/{product.id}", as_=owner, json={"name": "Big Mug", "price": 7, "category_id": category.id}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["slug"], body["price"], body["category"]["id"]) == (
        "Big Mug",
        "big-mug",
        "7.00",
        category.id,
    )
    assert response.headers["ETag"] == f'"{product.id}-2"'
    response = api.put(f"/products/{product.id}", as_=owner, json={"category_id": None, "stock": 0})
    assert response.get_json()["category"] is None and response.get_json()["stock"] == 0


def test_if_match_guards_against_lost_updates(api, owner, make_shop, make_product, snapshot):
    product = make_product(make_shop(owner), name="Mug")
    etag = api.get(f"/products/{product.id}").headers["ETag"]
    first = api.patch(f"/products/{product.id}", as_=owner, json={"name": "First"}, headers={"If-Match": etag})
    assert first.status_code == 200
    before = snapshot(product)
    stale = api.patch(f"/products/{product.id}", as_=owner, json={"name": "Second"}, headers={"If-Match": etag})
    assert "changed meanwhile" in assert_problem(stale, 412)["detail"]
    assert snapshot(product) == before
    huge = '"' + "9" * 5000 + '-1", "1-' + "9" * 5000 + '"'
    for foreign in (f'"{product.id + 1}-2"', f'W/"{product.id}-2"', "garbage", f'"0{product.id}-2"', huge):
        assert_problem(
            api.put(f"/products/{product.id}", as_=owner, json={"stock": 1}, headers={"If-Match": foreign}), 412
        )
    current = first.headers["ETag"]
    assert (
        api.put(f"/products/{product.id}", as_=owner, json={"stock": 1}, headers={"If-Match": current}).status_code
        == 200
    )
    assert (
        api.put(f"/products/{product.id}", as_=owner, json={"stock": 2}, headers={"If-Match": "*"}).status_code == 200
    )


def test_move_product_only_into_own_shop(api, owner, other, make_shop, make_product):
    mine, also_mine, theirs = make_shop(owner, name="A"), make_shop(owner, name="B"), make_shop(other, name="C")
    product = make_product(mine)
    assert_problem(api.patch(f"/products/{product.id}", as_=owner, json={"shop_id": theirs.id}), 403)
    assert_problem(api.patch(f"/products/{product.id}", as_=owner, json={"shop_id": 999999}), 422, "shop_id")
    moved = api.patch(f"/products/{product.id}", as_=owner, json={"shop_id": also_mine.id})
    assert moved.get_json()["shop"]["id"] == also_mine.id
    theirs_product = make_product(theirs)
    assert_problem(api.patch(f"/products/{theirs_product.id}", as_=owner, json={"shop_id": mine.id}), 403)


def test_delete_and_restore_product(api, owner, make_shop, make_product):
    shop = make_shop(owner)
    product = make_product(shop, name="Mug")
    assert api.delete(f"/products/{product.id}", as_=owner).status_code == 204
    assert_problem(api.get(f"/products/{product.id}"), 404)
    assert_problem(api.get(f"/products/{product.id}", as_=owner), 404)
    assert_problem(api.delete(f"/products/{product.id}", as_=owner), 404)
    assert api.get("/products").get_json()["total"] == 0
    restored = api.post(f"/products/{product.id}/restore", as_=owner)
    assert restored.status_code == 200 and restored.get_json()["name"] == "Mug"
    assert api.get("/products").get_json()["total"] == 1
    again = assert_problem(api.post(f"/products/{product.id}/restore", as_=owner), 409)
    assert again["detail"] == "This product is not deleted."


def test_restoring_a_product_that_is_not_deleted_is_409(api, owner, other, make_shop, make_product, snapshot):
    shop = make_shop(owner)
    live, hidden = make_product(shop, name="Live"), make_product(shop, name="Hidden", is_active=False)
    for product in (live, hidden):
        before = snapshot(product)
        response = api.post(f"/products/{product.id}/restore", as_=owner)
        assert assert_problem(response, 409)["detail"] == "This product is not deleted."
        assert snapshot(product) == before
    assert_problem(api.post(f"/products/{live.id}/restore", as_=other), 403)  # someone else's: as before
    assert_problem(api.post(f"/products/{hidden.id}/restore", as_=other), 404)
    api.delete(f"/shops/{shop.id}", as_=owner)
    assert_problem(api.post(f"/products/{live.id}/restore", as_=owner), 404)  # its shop is deleted: restore that


def test_restore_refused_while_a_live_product_took_the_name(api, owner, make_shop, make_product):
    shop = make_shop(owner)
    product = make_product(shop, name="Mug")
    api.delete(f"/products/{product.id}", as_=owner)
    make_product(shop, name="mug")
    assert_problem(api.post(f"/products/{product.id}/restore", as_=owner), 409)


def test_stock_adjustments_are_atomic_and_bounded(api, owner, make_shop, make_product, snapshot):
    product = make_product(make_shop(owner), stock=5)
    response = api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": -2})
    assert response.status_code == 200 and response.get_json()["stock"] == 3
    assert response.headers["ETag"] == f'"{product.id}-2"'
    assert api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": 10}).get_json()["stock"] == 13
    before = snapshot(product)
    assert_problem(api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": -14}), 409)
    assert_problem(api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": 999_990}), 409)
    assert_problem(api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": 1.5}), 422, "delta")
    assert_problem(api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": "1"}), 422, "delta")
    assert_problem(api.post(f"/products/{product.id}/stock", as_=owner, json={"delta": 2_000_000}), 422, "delta")
    assert_problem(api.post(f"/products/{product.id}/stock", as_=owner, json={}), 422, "delta")
    assert snapshot(product) == before


def test_catalog_page_costs_the_same_queries_for_more_products(
    api, owner, make_shop, make_product, make_category, queries, app
):
    from shopapp.products.models import ProductImage

    shop, category = make_shop(owner), make_category(owner)

    def add(count: int) -> None:
        for _ in range(count):
            product = make_product(shop, category_id=category.id)
            with app.app_context():
                db.session.add(ProductImage(product_id=product.id, storage_key="k.webp", width=1, height=1))
                db.session.commit()

    def queries_for_catalog() -> int:
        queries.clear()
        assert api.get("/products?per_page=100").status_code == 200
        return len(queries)

    add(2)
    few = queries_for_catalog()
    add(6)
    assert queries_for_catalog() == few > 0


def test_timestamps_are_utc_to_the_second():
    east = timezone(timedelta(hours=1, minutes=30))
    assert _timestamp(datetime(2026, 1, 1, 1, 4, 5, 999_999, tzinfo=east)) == "2025-12-31T23:34:05Z"
    assert _timestamp(datetime(2026, 11, 23, 20, 15, tzinfo=UTC)) == "2026-11-23T20:15:00Z"
