"""GET/POST /categories, GET/PUT/PATCH/DELETE /categories/{id}."""

from __future__ import annotations

from tests.api.conftest import assert_problem
from tests.conftest import loaded


def test_create_a_tree(api, owner):
    root = api.post("/categories", as_=owner, json={"name": "Kitchen"})
    assert root.status_code == 201
    root_body = root.get_json()
    assert set(root_body) == {"id", "name", "slug", "description", "parent_id", "owner_id", "created_at", "updated_at"}
    assert root_body["parent_id"] is None and root_body["owner_id"] == owner.id
    child = api.post("/categories", as_=owner, json={"name": "Mugs", "parent_id": root_body["id"], "description": "d"})
    assert child.status_code == 201 and child.get_json()["parent_id"] == root_body["id"]

    listed = api.get(f"/categories?parent_id={root_body['id']}").get_json()
    assert [c["name"] for c in listed["items"]] == ["Mugs"] and listed["total"] == 1
    assert api.get("/categories").get_json()["total"] == 2
    assert api.get(f"/categories/{root_body['id']}").get_json()["name"] == "Kitchen"


def test_create_category_errors(api, owner, make_category):
    make_category(owner, name="Kitchen")
    assert_problem(api.post("/categories", as_=owner, json={"name": "KITCHEN"}), 409)
    assert_problem(api.post("/categories", as_=owner, json={"name": "X", "parent_id": 999999}), 422, "parent_id")
    assert_problem(api.post("/categories", as_=owner, json={"name": "X", "parent_id": "1"}), 422, "parent_id")
    assert_problem(api.post("/categories", as_=owner, json={"name": "X", "owner_id": 1}), 422, "owner_id")
    assert_problem(api.post("/categories", json={"name": "X"}), 401)
    assert_problem(api.get("/categories/999999"), 404)
    assert_problem(api.get("/categories?parent_id=abc"), 422, "parent_id")


def test_update_category_and_refuse_cycles(api, owner, make_category):
    root = make_category(owner, name="Root")
    child = make_category(owner, name="Child", parent_id=root.id)
    response = api.patch(f"/categories/{root.id}", as_=owner, json={"name": "Top", "description": "all"})
    assert response.status_code == 200 and response.get_json()["slug"] == "top"
    body = assert_problem(api.put(f"/categories/{root.id}", as_=owner, json={"parent_id": child.id}), 422, "parent_id")
    assert body["errors"][0]["message"] == "would put the category inside itself"
    assert_problem(api.patch(f"/categories/{root.id}", as_=owner, json={"parent_id": root.id}), 422, "parent_id")
    moved = api.patch(f"/categories/{child.id}", as_=owner, json={"parent_id": None})
    assert moved.status_code == 200 and moved.get_json()["parent_id"] is None
    make_category(owner, name="Other")
    assert_problem(api.patch(f"/categories/{child.id}", as_=owner, json={"name": "other"}), 409)


def test_delete_category_only_when_unused(api, owner, make_category, make_shop, make_product):
    root = make_category(owner, name="Root")
    child = make_category(owner, name="Child", parent_id=root.id)
    product = make_product(make_shop(owner), category_id=child.id)
    assert "subcategories" in assert_problem(api.delete(f"/categories/{root.id}", as_=owner), 409)["detail"]
    assert "Products" in assert_problem(api.delete(f"/categories/{child.id}", as_=owner), 409)["detail"]
    api.delete(f"/products/{product.id}", as_=owner)
    assert api.delete(f"/categories/{child.id}", as_=owner).status_code == 204
    assert api.delete(f"/categories/{root.id}", as_=owner).status_code == 204
    assert_problem(api.get(f"/categories/{root.id}"), 404)


def test_only_the_creator_changes_a_category(api, owner, other, make_category, snapshot):
    category = make_category(owner, name="Mine")
    before = snapshot(category)
    assert_problem(api.patch(f"/categories/{category.id}", as_=other, json={"name": "Theirs"}), 403)
    assert_problem(api.delete(f"/categories/{category.id}", as_=other), 403)
    assert snapshot(category) == before


# Issue 12 item 9, category griefing. The rule: categories are public to browse and anyone may file a product
# under any of them; only a category's owner adds subcategories under it (or moves one there), renames, moves
# or deletes it; and a delete cannot be blocked by other owners: their products move up to the parent.


def test_another_owner_cannot_hang_a_subcategory_under_mine(api, owner, other, make_category, snapshot):
    kitchen = make_category(owner, name="Kitchen")
    before = snapshot(kitchen)
    body = assert_problem(api.post("/categories", as_=other, json={"name": "Spam", "parent_id": kitchen.id}), 403)
    assert body["detail"] == "Only the category's owner can add subcategories under it."
    theirs = make_category(other, name="Theirs")
    assert_problem(api.patch(f"/categories/{theirs.id}", as_=other, json={"parent_id": kitchen.id}), 403)
    # Nor the other way round: my category cannot be hung under theirs.
    assert_problem(api.patch(f"/categories/{kitchen.id}", as_=owner, json={"parent_id": theirs.id}), 403)
    assert api.get(f"/categories?parent_id={kitchen.id}").get_json()["total"] == 0
    assert snapshot(kitchen) == before


def test_another_owner_cannot_take_a_name_under_mine(api, owner, other, make_category):
    kitchen = make_category(owner, name="Kitchen")
    assert_problem(api.post("/categories", as_=other, json={"name": "Mugs", "parent_id": kitchen.id}), 403)
    mugs = api.post("/categories", as_=owner, json={"name": "Mugs", "parent_id": kitchen.id})
    assert mugs.status_code == 201
    # Their own top-level "Mugs" lives elsewhere and blocks nothing of mine.
    assert api.post("/categories", as_=other, json={"name": "Mugs"}).status_code == 201


def test_other_owners_products_cannot_block_my_delete(api, owner, other, make_category, make_shop, make_product):
    kitchen = make_category(owner, name="Kitchen")
    mugs = make_category(owner, name="Mugs", parent_id=kitchen.id)
    shop = make_shop(other)
    filed = api.post(
        "/products",
        as_=other,
        json={"shop_id": shop.id, "name": "Mug", "price": "3", "stock": 1, "category_id": mugs.id},
    )
    assert filed.status_code == 201  # anyone may file a product under any category
    gone = make_product(shop, name="Old mug", category_id=mugs.id)
    api.delete(f"/products/{gone.id}", as_=other)
    product = filed.get_json()["id"]

    assert api.delete(f"/categories/{mugs.id}", as_=owner).status_code == 204
    assert api.get(f"/products/{product}").get_json()["category"]["id"] == kitchen.id  # moved up, still browsable
    assert api.delete(f"/categories/{kitchen.id}", as_=owner).status_code == 204
    assert api.get(f"/products/{product}").get_json()["category"] is None  # a top-level one leaves them uncategorised


def test_my_own_live_products_still_block_my_delete(api, owner, other, make_category, make_shop, make_product):
    kitchen = make_category(owner, name="Kitchen")
    make_product(make_shop(other), category_id=kitchen.id)
    mine = make_product(make_shop(owner), category_id=kitchen.id)
    assert "Products" in assert_problem(api.delete(f"/categories/{kitchen.id}", as_=owner), 409)["detail"]
    api.delete(f"/products/{mine.id}", as_=owner)
    assert api.delete(f"/categories/{kitchen.id}", as_=owner).status_code == 204


def _hung_before_the_rule(app, owner, name, parent):  # type: ignore[no-untyped-def]
    """A subcategory another owner hung under ``parent`` while that was still allowed."""
    from shopapp.categories.models import Category
    from shopapp.extensions import db

    with app.app_context():
        category = Category(owner_id=owner.id, name=name, slug=name.lower(), parent_id=parent.id)
        db.session.add(category)
        db.session.commit()
        return loaded(category)


def test_subcategories_hung_before_the_rule_cannot_block_my_delete(api, owner, other, make_category, app):
    make_category(owner, name="Spam")
    kitchen = make_category(owner, name="Kitchen")
    spam = _hung_before_the_rule(app, other, "Spam", kitchen)
    ham = _hung_before_the_rule(app, other, "Ham", kitchen)
    # Their legacy child may leave, or change its description, but not take another name under my category.
    assert_problem(api.patch(f"/categories/{ham.id}", as_=other, json={"name": "Mugs"}), 403)
    assert api.patch(f"/categories/{ham.id}", as_=other, json={"description": "ok"}).status_code == 200

    assert api.delete(f"/categories/{kitchen.id}", as_=owner).status_code == 204
    lifted = {c["id"]: c for c in api.get("/categories?per_page=100").get_json()["items"]}
    assert lifted[ham.id]["parent_id"] is None and lifted[ham.id]["name"] == "Ham"
    # A lifted child whose name is taken at its new level keeps its name with its id after it.
    assert lifted[spam.id]["parent_id"] is None and lifted[spam.id]["name"] == f"Spam ({spam.id})"
