"""GET/POST /shops, GET/PUT/PATCH/DELETE /shops/{id}, POST /shops/{id}/restore."""

from __future__ import annotations

from tests.api.conftest import assert_problem

SHOP_FIELDS = {
    "id", "owner_id", "name", "slug", "description", "address", "email", "phone", "is_active", "shipping_fee",
    "created_at", "updated_at",
}  # fmt: skip


def test_create_shop_owned_by_the_caller(api, owner):
    response = api.post(
        "/shops",
        as_=owner,
        json={"name": "  Corner   Shop ", "description": "Mugs", "email": "Shop@Example.com", "phone": "+1 555"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == SHOP_FIELDS
    assert body["owner_id"] == owner.id and body["name"] == "Corner Shop" and body["slug"] == "corner-shop"
    assert body["email"] == "shop@example.com" and body["address"] == "" and body["is_active"] is True


def test_create_shop_refuses_mass_assignment_and_bad_values(api, owner):
    response = api.post(
        "/shops", as_=owner, json={"name": "X", "owner_id": 99, "id": 5, "created_at": "2020", "deleted_at": None}
    )
    assert_problem(response, 422, "owner_id", "id", "created_at", "deleted_at")
    assert_problem(api.post("/shops", as_=owner, json={"name": "   "}), 422, "name")
    assert_problem(api.post("/shops", as_=owner, json={"name": "X", "email": "nope"}), 422, "email")
    assert_problem(api.post("/shops", as_=owner, json={}), 422, "name")
    assert_problem(api.post("/shops", json={"name": "X"}), 401)


def test_list_shops_only_live_ones_with_filters_and_pages(api, owner, other, make_shop):
    make_shop(owner, name="Alpha Mugs")
    make_shop(owner, name="Beta Plates", description="fine mugs too")
    make_shop(other, name="Gamma")
    make_shop(owner, name="Hidden", is_active=False)
    gone = make_shop(owner, name="Gone")
    api.delete(f"/shops/{gone.id}", as_=owner)

    body = api.get("/shops").get_json()
    assert [s["name"] for s in body["items"]] == ["Alpha Mugs", "Beta Plates", "Gamma"]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)
    assert [s["name"] for s in api.get("/shops?q=MUG").get_json()["items"]] == ["Alpha Mugs", "Beta Plates"]
    assert [s["name"] for s in api.get(f"/shops?owner_id={other.id}").get_json()["items"]] == ["Gamma"]
    paged = api.get("/shops?per_page=2&page=2").get_json()
    assert [s["name"] for s in paged["items"]] == ["Gamma"] and paged["pages"] == 2
    past_end = api.get("/shops?page=9").get_json()
    assert past_end["items"] == [] and past_end["total"] == 3


def test_get_shop_hides_inactive_shops_from_everyone_but_the_owner(api, owner, other, make_shop):
    shop = make_shop(owner, name="Hidden", is_active=False)
    assert_problem(api.get(f"/shops/{shop.id}"), 404)
    assert_problem(api.get(f"/shops/{shop.id}", as_=other), 404)
    response = api.get(f"/shops/{shop.id}", as_=owner)
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert_problem(api.get("/shops/999999"), 404)


def test_update_shop_with_put_or_patch(api, owner, make_shop):
    shop = make_shop(owner, name="Old")
    response = api.patch(f"/shops/{shop.id}", as_=owner, json={"name": "New Name", "is_active": False})
    assert response.status_code == 200
    assert response.get_json()["slug"] == "new-name" and response.get_json()["is_active"] is False
    response = api.put(f"/shops/{shop.id}", as_=owner, json={"address": "1 Main St"})
    assert response.get_json()["address"] == "1 Main St" and response.get_json()["name"] == "New Name"
    assert_problem(api.patch(f"/shops/{shop.id}", as_=owner, json={"is_active": "yes"}), 422, "is_active")
    assert_problem(api.patch(f"/shops/{shop.id}", as_=owner, json={"name": None}), 422, "name")


def test_delete_and_restore_shop(api, owner, make_shop, make_product):
    shop = make_shop(owner, name="Shop")
    product = make_product(shop, name="Mug")
    assert api.delete(f"/shops/{shop.id}", as_=owner).status_code == 204
    assert_problem(api.get(f"/shops/{shop.id}"), 404)
    assert api.get("/products").get_json()["total"] == 0  # its products leave the catalog
    assert_problem(api.get(f"/products/{product.id}"), 404)
    assert_problem(api.delete(f"/shops/{shop.id}", as_=owner), 404)

    response = api.post(f"/shops/{shop.id}/restore", as_=owner)
    assert response.status_code == 200 and response.get_json()["id"] == shop.id
    assert api.get("/products").get_json()["total"] == 1
    again = assert_problem(api.post(f"/shops/{shop.id}/restore", as_=owner), 409)  # not deleted any more
    assert again["detail"] == "This shop is not deleted."


def test_restoring_a_shop_that_is_not_deleted_is_409(api, owner, other, make_shop, snapshot):
    live, inactive = make_shop(owner, name="Live"), make_shop(owner, name="Closed", is_active=False)
    for shop in (live, inactive):
        before = snapshot(shop)
        assert assert_problem(api.post(f"/shops/{shop.id}/restore", as_=owner), 409)["detail"] == (
            "This shop is not deleted."
        )
        assert snapshot(shop) == before
    assert_problem(api.post(f"/shops/{live.id}/restore", as_=other), 403)  # someone else's: as before
    assert_problem(api.post(f"/shops/{inactive.id}/restore", as_=other), 404)


def test_other_users_cannot_touch_a_shop(api, owner, other, make_shop, snapshot):
    shop = make_shop(owner, name="Mine")
    before = snapshot(shop)
    assert_problem(api.patch(f"/shops/{shop.id}", as_=other, json={"name": "Stolen"}), 403)
    assert_problem(api.delete(f"/shops/{shop.id}", as_=other), 403)
    assert snapshot(shop) == before
    api.delete(f"/shops/{shop.id}", as_=owner)
    assert_problem(api.post(f"/shops/{shop.id}/restore", as_=other), 404)  # they cannot even see it now


def test_shipping_fee_is_a_price_default_zero(api, owner):
    created = api.post("/shops", as_=owner, json={"name": "Fees"}).get_json()
    assert created["shipping_fee"] == "0.00"
    response = api.patch(f"/shops/{created['id']}", as_=owner, json={"shipping_fee": "4.5"})
    assert response.status_code == 200 and response.get_json()["shipping_fee"] == "4.50"
    assert api.get(f"/shops/{created['id']}").get_json()["shipping_fee"] == "4.50"
    for bad in ("-1", "1.234", True, "abc"):
        assert_problem(api.patch(f"/shops/{created['id']}", as_=owner, json={"shipping_fee": bad}), 422, "shipping_fee")
