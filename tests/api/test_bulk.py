"""POST /shops/{id}/products/bulk: each action, prices rounded half-up and never below 0, refusals that change
nothing (foreign ids, clashes, a failure midway), every invalid field at once, and the queries 500 ids cost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopapp.extensions import db
from shopapp.products import bulk
from shopapp.products.models import Product
from tests.api.conftest import assert_problem


def _bulk(api, user, shop, action, ids, **value):
    return api.post(f"/shops/{shop.id}/products/bulk", as_=user, json={"action": action, "product_ids": ids, **value})


def _state(fresh, ids):
    return [(p.is_active, p.deleted_at is not None, p.stock, p.price, p.category_id, p.version) for p in
            (fresh(Product, i) for i in ids)]  # fmt: skip


@pytest.fixture
def three(owner, make_shop, make_product):
    shop = make_shop(owner)
    return shop, [make_product(shop, name=f"Mug {n}", price=Decimal("19.99"), stock=5).id for n in range(3)]


def test_deactivate_then_activate_counts_only_the_changed(api, owner, three, fresh):
    shop, ids = three
    response = _bulk(api, owner, shop, "deactivate", ids[:2])
    assert response.status_code == 200
    body = response.get_json()
    assert body["changed"] == 2 and [p["id"] for p in body["products"]] == ids[:2]
    assert [p["is_active"] for p in body["products"]] == [False, False]
    assert fresh(Product, ids[0]).version == 2 and fresh(Product, ids[2]).is_active
    again = _bulk(api, owner, shop, "deactivate", ids).get_json()
    assert again["changed"] == 1  # the two already inactive are unchanged
    assert fresh(Product, ids[0]).version == 2  # and keep their version (their ETag)
    assert _bulk(api, owner, shop, "activate", [ids[0]]).get_json()["changed"] == 1
    assert fresh(Product, ids[0]).is_active


def test_delete_is_soft_and_restore_brings_them_back(api, owner, three, fresh):
    shop, ids = three
    assert _bulk(api, owner, shop, "delete", ids[:2]).get_json()["changed"] == 2
    assert fresh(Product, ids[0]).deleted_at is not None
    assert api.get(f"/products/{ids[0]}").status_code == 404
    assert _bulk(api, owner, shop, "delete", ids).get_json()["changed"] == 1  # the deleted two are unchanged
    # Other actions act on live products only, as single edits do: deleted ones are 404, named.
    body = assert_problem(_bulk(api, owner, shop, "set_stock", ids, value=1), 404)
    assert body["detail"] == f"These products are not among the shop's products: {ids[0]}, {ids[1]}, {ids[2]}."
    restored = _bulk(api, owner, shop, "restore", ids).get_json()
    assert restored["changed"] == 3 and fresh(Product, ids[2]).deleted_at is None


def test_a_restore_that_clashes_restores_none_and_names_them(api, owner, make_shop, make_product, fresh):
    shop = make_shop(owner)
    gone = [make_product(shop, name="Lamp", sku="L-1").id, make_product(shop, name="Desk").id]
    _bulk(api, owner, shop, "delete", gone)
    make_product(shop, name="LAMP")  # takes the first one's name, in another case
    body = assert_problem(_bulk(api, owner, shop, "restore", gone), 409)
    assert (
        body["detail"]
        == f"These products cannot be restored: a live product of the shop has their name or SKU: {gone[0]}."
    )
    assert fresh(Product, gone[1]).deleted_at is not None  # nothing restored
    twin = make_product(shop, name="Chair", sku="C-1").id
    _bulk(api, owner, shop, "delete", [twin])
    make_product(shop, name="Stool", sku="c-1")
    body = assert_problem(_bulk(api, owner, shop, "restore", [twin, gone[1]]), 409)
    assert body["detail"].endswith(f": {twin}.")


def test_two_deleted_products_with_one_name_cannot_both_come_back(api, owner, make_shop, make_product):
    shop = make_shop(owner)
    first = make_product(shop, name="Vase").id
    _bulk(api, owner, shop, "delete", [first])
    second = make_product(shop, name="vase").id
    _bulk(api, owner, shop, "delete", [second])
    body = assert_problem(_bulk(api, owner, shop, "restore", [first, second]), 409)
    assert body["detail"].endswith(f": {first}, {second}.")


def test_set_category_and_clear_it(api, owner, three, make_category, fresh):
    shop, ids = three
    category = make_category(owner, name="Mugs")
    body = _bulk(api, owner, shop, "set_category", ids, value=category.id).get_json()
    assert body["changed"] == 3 and {p["category"]["name"] for p in body["products"]} == {"Mugs"}
    assert _bulk(api, owner, shop, "set_category", ids, value=category.id).get_json()["changed"] == 0
    assert _bulk(api, owner, shop, "set_category", ids[:1], value=None).get_json()["changed"] == 1
    assert fresh(Product, ids[0]).category_id is None and fresh(Product, ids[1]).category_id == category.id
    body = assert_problem(_bulk(api, owner, shop, "set_category", ids, value=2**31 - 1), 422, "value")
    assert body["errors"][0]["message"] == "refers to a category that does not exist"


def test_set_stock(api, owner, three, fresh):
    shop, ids = three
    assert _bulk(api, owner, shop, "set_stock", ids, value=5).get_json()["changed"] == 0  # already 5
    body = _bulk(api, owner, shop, "set_stock", ids, value=1_000_000).get_json()
    assert body["changed"] == 3 and {p["stock"] for p in body["products"]} == {1_000_000}
    body = assert_problem(_bulk(api, owner, shop, "set_stock", ids, value=1_000_001), 422, "value")
    assert body["errors"][0]["message"] == "must be at most 1000000"
    assert fresh(Product, ids[0]).stock == 1_000_000


@pytest.mark.parametrize(
    ("price", "change", "expected"),
    [
        ("19.99", {"percent": "10"}, "21.99"),  # 21.989 rounds up
        ("0.05", {"percent": "50"}, "0.08"),  # 0.075: half-up, not to even
        ("0.25", {"percent": "-50"}, "0.13"),  # 0.125
        ("10.00", {"percent": "-100"}, "0.00"),
        ("10.00", {"percent": "-150"}, "0.00"),  # never below 0
        ("19.99", {"amount": "-2.50"}, "17.49"),
        ("1.00", {"amount": "-2.50"}, "0.00"),  # clamps at 0
        ("1.00", {"amount": "+3"}, "4.00"),
    ],
)
def test_adjust_price(api, owner, make_shop, make_product, fresh, price, change, expected):
    shop = make_shop(owner)
    product = make_product(shop, price=Decimal(price))
    body = _bulk(api, owner, shop, "adjust_price", [product.id], value=change).get_json()
    assert body["products"][0]["price"] == expected and body["changed"] == 1
    assert fresh(Product, product.id).price == Decimal(expected)


def test_a_price_pushed_past_the_maximum_is_409_and_changes_none(api, owner, make_shop, make_product, fresh):
    shop = make_shop(owner)
    cheap, dear = make_product(shop, price=Decimal("1.00")).id, make_product(shop, price=Decimal("999999.00")).id
    body = assert_problem(_bulk(api, owner, shop, "adjust_price", [cheap, dear], value={"amount": "2"}), 409)
    assert body["detail"] == f"These products' price would go above 1000000: {dear}."
    assert fresh(Product, cheap).price == Decimal("1.00")


def test_foreign_and_unknown_ids_are_404_naming_them_and_nothing_changes(
    api, owner, other, three, make_shop, make_product, fresh
):
    shop, ids = three
    theirs = make_product(make_shop(other)).id
    mine_elsewhere = make_product(make_shop(owner, name="Second")).id
    before = _state(fresh, ids)
    body = assert_problem(_bulk(api, owner, shop, "deactivate", [*ids, theirs, 999_999, mine_elsewhere]), 404)
    assert body["detail"] == f"These products are not among the shop's products: {theirs}, 999999, {mine_elsewhere}."
    assert _state(fresh, ids) == before
    # Someone else's shop: refused as single edits of it are.
    assert_problem(_bulk(api, other, shop, "deactivate", ids), 403)
    assert _state(fresh, ids) == before


def test_every_invalid_field_at_once(api, owner, three):
    shop, ids = three
    body = assert_problem(_bulk(api, owner, shop, "explode", [*ids, ids[0]]), 422, "action", "product_ids")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages == {
        "action": "must be one of " + ", ".join(bulk.ACTIONS),
        "product_ids": f"lists these ids more than once: {ids[0]}",
    }
    body = assert_problem(_bulk(api, owner, shop, "adjust_price", [], value={"percent": "1.234"}), 422,
                          "product_ids", "value.percent")  # fmt: skip
    assert {e["message"] for e in body["errors"]} == {
        "must list 1 to 1000 product ids",
        "must have at most 2 decimal places",
    }
    wrong = [
        ({"amount": "1", "percent": "2"}, "value"),
        ({"amount": "1e3"}, "value.amount"),
        ({"amount": 3}, "value.amount"),  # a string: exact
        ({"percent": "12345678"}, "value.percent"),
        (5, "value"),
    ]
    for value, field in wrong:
        assert_problem(_bulk(api, owner, shop, "adjust_price", ids, value=value), 422, field)
    assert_problem(_bulk(api, owner, shop, "set_stock", ids), 422, "value")  # required
    assert_problem(_bulk(api, owner, shop, "set_stock", ids, value="5"), 422, "value")
    assert_problem(_bulk(api, owner, shop, "delete", ids, value=3), 422, "value")  # not used
    assert_problem(_bulk(api, owner, shop, "delete", ["1", True]), 422, "product_ids")
    response = api.post(f"/shops/{shop.id}/products/bulk", as_=owner, json={"action": "delete", "ids": ids})
    assert_problem(response, 422, "ids", "product_ids")


def test_1001_ids_are_422(api, owner, three):
    shop, _ = three
    body = assert_problem(_bulk(api, owner, shop, "delete", list(range(1, 1002))), 422, "product_ids")
    assert body["errors"][0]["message"] == "must list at most 1000 product ids (got 1001)"


@pytest.mark.allow_5xx
def test_a_failure_midway_leaves_nothing_changed(api, owner, three, fresh, monkeypatch):
    """The reprice's UPDATE ran and the answer then failed: the transaction rolls back as one."""
    shop, ids = three
    before = _state(fresh, ids)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bulk, "with_relations", broken)
    response = _bulk(api, owner, shop, "adjust_price", ids, value={"percent": "10"})
    assert_problem(response, 500)
    assert _state(fresh, ids) == before


def test_500_ids_cost_a_bounded_number_of_queries(api, app, owner, make_shop, fresh, queries):
    shop = make_shop(owner)
    with app.app_context():
        rows = [Product(shop_id=shop.id, name=f"Item {n}", slug=f"item-{n}", price=Decimal("10.00"), stock=1)
                for n in range(500)]  # fmt: skip
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
    for action, value in [("adjust_price", {"value": {"percent": "10"}}), ("deactivate", {}), ("delete", {})]:
        queries.clear()
        response = _bulk(api, owner, shop, action, ids, **value)
        assert response.status_code == 200 and response.get_json()["changed"] == 500
        assert len(queries) <= 8, queries  # 6 today, whatever the number of ids: one UPDATE among them
    assert fresh(Product, ids[-1]).price == Decimal("11.00")
