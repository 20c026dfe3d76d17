"""SKUs through the API: set on create and update, unique among a shop's live products whatever the case (409,
from the service's check and, past it, from the index), free again once deleted, a refused restore, the ``sku``
filters, invalid values, and the catalog search putting an exact SKU first."""

from __future__ import annotations

import pytest

from shopapp.products import services
from tests.api.conftest import assert_problem

RULE = "must be 1 to 64 visible ASCII characters (letters, digits, punctuation; no spaces)"


def _create(api, user, shop, **fields):
    return api.post(
        "/products", as_=user, json={"shop_id": shop.id, "name": "Mug", "price": "9.50", "stock": 1, **fields}
    )


def test_set_on_create_changed_and_cleared_on_update(api, owner, make_shop):
    shop = make_shop(owner)
    created = _create(api, owner, shop, sku="Mug-001")
    assert created.status_code == 201 and created.get_json()["sku"] == "Mug-001"  # stored as typed
    product_id = created.get_json()["id"]
    assert _create(api, owner, shop, name="Plain").get_json()["sku"] is None
    changed = api.patch(f"/products/{product_id}", as_=owner, json={"sku": "MUG-002"})
    assert changed.status_code == 200 and changed.get_json()["sku"] == "MUG-002"
    assert api.patch(f"/products/{product_id}", as_=owner, json={"name": "Cup"}).get_json()["sku"] == "MUG-002"
    cleared = api.patch(f"/products/{product_id}", as_=owner, json={"sku": None})
    assert cleared.status_code == 200 and cleared.get_json()["sku"] is None
    assert api.get(f"/products/{product_id}").get_json()["sku"] is None


def test_a_clash_in_another_case_is_409_and_nothing_is_written(api, owner, make_shop, make_product, fresh):
    shop = make_shop(owner)
    make_product(shop, name="Blue", sku="abc-1")
    body = assert_problem(_create(api, owner, shop, sku="ABC-1"), 409)
    assert body["detail"] == "This shop already has a product with this SKU."
    other = make_product(shop, name="Green")
    assert_problem(api.patch(f"/products/{other.id}", as_=owner, json={"sku": "Abc-1", "stock": 7}), 409)
    assert fresh(type(other), other.id).sku is None and fresh(type(other), other.id).stock == 5
    # Saving a product with its own SKU (another case) is no clash; nor is the same SKU in another shop.
    mine = api.get("/users/me/products?sku=ABC-1", as_=owner).get_json()["items"][0]
    assert api.patch(f"/products/{mine['id']}", as_=owner, json={"sku": "ABC-1"}).status_code == 200
    assert _create(api, owner, make_shop(owner, name="Second"), sku="abc-1").status_code == 201


def test_moving_to_a_shop_where_the_sku_is_taken_is_409(api, owner, make_shop, make_product):
    first, second = make_shop(owner, name="First"), make_shop(owner, name="Second")
    make_product(second, name="There", sku="X1")
    moving = make_product(first, name="Here", sku="x1")
    assert_problem(api.patch(f"/products/{moving.id}", as_=owner, json={"shop_id": second.id}), 409)


def test_the_index_backs_the_check_under_a_race(api, owner, make_shop, make_product, monkeypatch):
    """A writer that passed the check before the other committed meets the unique index: the same 409, not a 500."""
    shop = make_shop(owner)
    make_product(shop, name="First", sku="RACE-1")
    monkeypatch.setattr(services, "_sku_free", lambda *args, **kwargs: None)
    body = assert_problem(_create(api, owner, shop, name="Second", sku="race-1"), 409)
    assert body["detail"] == "This shop already has a product with this SKU."
    # The name index still speaks in its own words.
    assert "name" in assert_problem(_create(api, owner, shop, name="first"), 409)["detail"]


def test_a_deleted_products_sku_is_free_and_its_restore_is_refused(api, owner, make_shop, make_product, fresh):
    shop = make_shop(owner)
    old = make_product(shop, name="Old", sku="SKU-9")
    assert api.delete(f"/products/{old.id}", as_=owner).status_code == 204
    new = _create(api, owner, shop, name="New", sku="sku-9")
    assert new.status_code == 201
    body = assert_problem(api.post(f"/products/{old.id}/restore", as_=owner), 409)
    assert body["detail"] == "This shop already has a product with this SKU. Change that one's SKU first."
    assert fresh(type(old), old.id).deleted_at is not None
    assert api.patch(f"/products/{new.get_json()['id']}", as_=owner, json={"sku": "SKU-10"}).status_code == 200
    restored = api.post(f"/products/{old.id}/restore", as_=owner)
    assert restored.status_code == 200 and restored.get_json()["sku"] == "SKU-9"


@pytest.mark.parametrize(
    "sku",
    ["", " ", "A B", " AB", "AB\t", "x" * 65, "café", "MUG\u00a01", "\uff2d\uff35\uff27", "a\nb", "\x7f", "é"],
)
def test_invalid_skus_are_refused_in_the_rules_words(api, owner, make_shop, sku):
    shop = make_shop(owner)
    body = assert_problem(_create(api, owner, shop, sku=sku), 422, "sku")
    assert body["errors"][0]["message"] == RULE


def test_the_longest_and_every_visible_ascii_character_are_fine(api, owner, make_shop):
    shop = make_shop(owner)
    assert _create(api, owner, shop, name="Long", sku="x" * 64).status_code == 201
    every = "".join(map(chr, range(0x21, 0x7F)))
    assert _create(api, owner, shop, name="Every", sku=every[:64]).get_json()["sku"] == every[:64]
    assert _create(api, owner, shop, name="Rest", sku=every[64:]).get_json()["sku"] == every[64:]


def test_every_invalid_field_at_once_the_sku_among_them(api, owner, make_shop):
    shop = make_shop(owner)
    body = assert_problem(
        api.post(
            "/products",
            as_=owner,
            json={"shop_id": shop.id, "name": " ", "price": "-1", "stock": -1, "sku": "no spaces"},
        ),
        422,
        "name",
        "price",
        "stock",
        "sku",
    )
    assert {e["field"]: e["message"] for e in body["errors"]}["sku"] == RULE
    assert_problem(
        api.post("/products", as_=owner, json={"shop_id": shop.id, "sku": 5}), 422, "name", "price", "stock", "sku"
    )


def test_filters_find_the_exact_sku_in_any_case(api, owner, other, make_shop, make_product):
    mine, theirs = make_shop(owner, name="Mine"), make_shop(other, name="Theirs")
    make_product(mine, name="Kettle", sku="KET-1")
    make_product(mine, name="Kettle Two", sku="KET-10")
    make_product(theirs, name="Their Kettle", sku="ket-1")
    make_product(mine, name="Hidden", sku="HID-1", is_active=False)

    catalog = api.get("/products?sku=ket-1").get_json()["items"]
    assert sorted(p["name"] for p in catalog) == ["Kettle", "Their Kettle"]  # exact, not a prefix
    assert api.get("/products?sku=HID-1").get_json()["items"] == []  # the catalog shows visible products only
    own = api.get("/users/me/products?sku=Ket-1", as_=owner).get_json()["items"]
    assert [p["name"] for p in own] == ["Kettle"]  # another owner's never
    hidden = api.get("/users/me/products?sku=hid-1&status=inactive", as_=owner).get_json()["items"]
    assert [p["sku"] for p in hidden] == ["HID-1"]
    assert_problem(api.get("/products?sku=a%20b"), 422, "sku")
    assert_problem(api.get("/users/me/products?sku=", as_=owner), 422, "sku")


def test_search_ranks_the_exact_sku_first(api, owner, make_shop, make_product):
    shop = make_shop(owner)
    make_product(shop, name="Lamp 4711 shade", description="Fits lamp 4711")
    make_product(shop, name="Lamp 4711", description="Lamp 4711, lamp 4711")
    make_product(shop, name="Desk light", sku="4711")  # its text says nothing of 4711
    make_product(shop, name="Other", sku="4711-B")
    found = api.get("/products?q=4711").get_json()
    assert [p["name"] for p in found["items"]] == ["Desk light", "Lamp 4711", "Lamp 4711 shade"]
    assert found["total"] == 3
    # Other orders list what the words match.
    by_name = api.get("/products?q=4711&sort=name").get_json()["items"]
    assert [p["name"] for p in by_name] == ["Lamp 4711", "Lamp 4711 shade"]
    # A SKU that its product's name also matches is listed once, first.
    make_product(shop, name="Lamp extra", sku="LAMP")
    lamps = api.get("/products?q=lamp").get_json()
    assert lamps["items"][0]["name"] == "Lamp extra" and lamps["total"] == 3
    # Filters apply to SKU matches too.
    assert api.get("/products?q=4711&min_price=100").get_json()["items"] == []
