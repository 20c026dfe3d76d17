"""One 422 names every invalid field (issue 13): the service's rules, its "is required" and reference checks, and
the body's type errors, each once, with the service's words; nothing is written."""

from __future__ import annotations

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.products.models import Product
from shopapp.shops.models import Shop
from tests.api.conftest import assert_problem


def _errors(body: dict) -> dict[str | None, str]:
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert len(messages) == len(body["errors"]), body  # one entry per field
    return messages


def test_a_new_product_with_three_bad_values_names_all_three(api, owner, make_shop, row_count):
    shop = make_shop(owner)
    response = api.post("/products", as_=owner, json={"shop_id": shop.id, "name": "", "price": "-1", "stock": -1})
    body = assert_problem(response, 422, "name", "price", "stock")
    assert body["detail"] == "Some values are invalid; see errors."
    assert _errors(body) == {"name": "must not be empty", "price": "must be at least 0", "stock": "must be at least 0"}
    assert row_count(Product) == 0


def test_registering_with_three_bad_values_names_all_three(api, row_count):
    response = api.post("/users/register", json={"email": "not an email", "password": "short", "name": ""})
    body = assert_problem(response, 422, "email", "password", "name")
    assert _errors(body) == {
        "email": "is not a valid email address",
        "password": "must be 8 to 128 characters",
        "name": "must not be empty",
    }
    assert row_count(User) == 0


def test_missing_references_are_named_together_and_bad_values_come_first(api, owner):
    """Values the document refuses are listed before any lookup; a body that passes it gets every missing
    reference named at once."""
    data = {"shop_id": 2**31 - 1, "category_id": 2**31 - 1, "name": "\x1b[31mMug", "price": "1.234", "stock": 1}
    body = assert_problem(api.post("/products", as_=owner, json=data), 422, "name", "price")
    assert _errors(body) == {
        "name": "must not contain control characters (NUL, escapes, text-direction marks)",
        "price": "must have at most 2 decimal places",
    }
    data = {**data, "name": "Mug", "price": "1.23"}
    body = assert_problem(api.post("/products", as_=owner, json=data), 422, "shop_id", "category_id")
    assert _errors(body) == {
        "shop_id": "refers to a shop that does not exist",
        "category_id": "refers to a category that does not exist",
    }


def test_missing_required_fields_and_bad_values_come_together(api, owner, make_shop):
    """A required field left out is named once, as missing; one given but invalid once, as invalid."""
    shop = make_shop(owner)
    response = api.post("/products", as_=owner, json={"shop_id": shop.id, "price": "abc"})
    body = assert_problem(response, 422, "name", "price", "stock")
    assert _errors(body) == {"name": "is required", "price": "must be a number such as 19.99", "stock": "is required"}


def test_type_errors_and_rule_problems_of_other_fields_come_in_one_answer(api, owner, make_shop, row_count):
    shop = make_shop(owner)
    data = {"shop_id": shop.id, "name": " ", "price": "-1", "stock": "5", "is_active": "yes", "owner_id": 1}
    fields = ("name", "price", "stock", "is_active", "owner_id")
    body = assert_problem(api.post("/products", as_=owner, json=data), 422, *fields)
    assert _errors(body) == {
        "name": "must not be empty",
        "price": "must be at least 0",
        "stock": "must be a whole number",
        "is_active": "must be true or false",
        "owner_id": "is not a field you can set",
    }
    # An integral number the type accepts (5.0 for a whole number) is checked as the number it is.
    data = {"shop_id": shop.id, "name": "Mug", "price": "1", "stock": 5.0, "category_id": 2.0, "is_active": 1}
    body = assert_problem(api.post("/products", as_=owner, json=data), 422, "is_active")
    registering = {"email": "nope", "password": 12345678, "name": "\u200b"}
    body = assert_problem(api.post("/users/register", json=registering), 422, "email", "password", "name")
    assert _errors(body) == {
        "email": "is not a valid email address",
        "password": "must be a string",
        "name": "must not contain invisible characters",
    }
    assert row_count(Product) == 0 and row_count(User) == 1


def test_a_shop_and_a_category_name_every_bad_value(api, owner, make_category, row_count):
    response = api.post("/shops", as_=owner, json={"name": "", "email": "shop at", "phone": "call me", "x": 1})
    body = assert_problem(response, 422, "name", "email", "phone", "x")
    assert _errors(body) == {
        "name": "must not be empty",
        "email": "is not a valid email address",
        "phone": "may contain only digits, spaces and + - ( )",
        "x": "is not a field you can set",
    }
    data = {"name": "a\x07", "description": "x" * 5001, "parent_id": 2**31 - 1}
    body = assert_problem(api.post("/categories", as_=owner, json=data), 422, "name", "description")
    assert _errors(body) == {
        "name": "must not contain control characters (NUL, escapes, text-direction marks)",
        "description": "must be at most 5000 characters",
    }
    missing_parent = api.post("/categories", as_=owner, json={**data, "name": "a", "description": ""})
    body = assert_problem(missing_parent, 422, "parent_id")
    assert _errors(body) == {"parent_id": "refers to a category that does not exist"}
    assert row_count(Shop) == 0 and row_count(Category) == 0

    category = make_category(owner, name="Kitchen")
    response = api.patch(f"/categories/{category.id}", as_=owner, json={"name": "", "parent_id": category.id})
    assert _errors(assert_problem(response, 422, "name")) == {"name": "must not be empty"}
    response = api.patch(f"/categories/{category.id}", as_=owner, json={"name": "Cups", "parent_id": category.id})
    assert _errors(assert_problem(response, 422, "parent_id")) == {"parent_id": "would put the category inside itself"}


def test_an_edit_with_one_bad_value_writes_none_of_the_good_ones(api, owner, make_shop, make_product, snapshot):
    shop = make_shop(owner, name="Mine")
    product = make_product(shop, name="Mug", price="2.00", stock=3)
    before, shop_before = snapshot(product), snapshot(shop)
    changes = {"name": "Cup", "price": "3.00", "stock": 1_000_001, "description": "\u202eevil"}
    body = assert_problem(api.patch(f"/products/{product.id}", as_=owner, json=changes), 422, "stock", "description")
    assert _errors(body) == {
        "stock": "must be at most 1000000",
        "description": "must not contain control characters (NUL, escapes, text-direction marks)",
    }
    assert snapshot(product) == before
    response = api.patch(f"/shops/{shop.id}", as_=owner, json={"name": "New", "email": "@", "phone": "call me"})
    assert_problem(response, 422, "email", "phone")
    assert snapshot(shop) == shop_before


def test_a_refusal_of_the_whole_request_wins_over_bad_values(api, owner, other, make_shop, row_count):
    """Another owner's shop is a 403 once the body passes the document: fixing the values would not help. A body
    the document refuses is a 422 first (nothing about the shop is looked up)."""
    theirs = make_shop(other, name="Theirs")
    response = api.post("/products", as_=owner, json={"shop_id": theirs.id, "name": "", "price": "-1", "stock": -1})
    assert assert_problem(response, 422, "name", "price", "stock")
    response = api.post("/products", as_=owner, json={"shop_id": theirs.id, "name": "Mug", "price": "1", "stock": 1})
    assert assert_problem(response, 403)["detail"] == "You can only put products in your own shops."
    assert row_count(Product) == 0


def test_a_taken_email_is_a_409_once_the_values_are_valid(api, make_user):
    make_user(email="ann@example.com")
    response = api.post("/users/register", json={"email": "ANN@example.com", "password": "x", "name": ""})
    body = assert_problem(response, 422, "password", "name")
    assert "email" not in _errors(body)
    response = api.post("/users/register", json={"email": "ANN@example.com", "password": "long enough", "name": "A"})
    assert assert_problem(response, 409)["detail"] == "An account with this email already exists."
