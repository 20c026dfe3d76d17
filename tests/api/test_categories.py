"""GET/POST /categories, GET/PUT/PATCH/DELETE /categories/{id}."""

from __future__ import annotations

from tests.api.conftest import assert_problem, snapshot


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


def test_only_the_creator_changes_a_category(api, owner, other, make_category):
    category = make_category(owner, name="Mine")
    before = snapshot(category)
    assert_problem(api.patch(f"/categories/{category.id}", as_=other, json={"name": "Theirs"}), 403)
    assert_problem(api.delete(f"/categories/{category.id}", as_=other), 403)
    assert snapshot(category) == before
