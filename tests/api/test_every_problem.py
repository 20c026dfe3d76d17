"""One 422 names every invalid field (issue 13): the service's rules, its "is required" and reference checks, and
the body's type errors, each once, with the service's words; nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select

from shopapp.auth.models import User
from shopapp.extensions import db
from shopapp.products.models import Product
from tests.api.conftest import assert_problem, snapshot


def _errors(body: dict) -> dict[str | None, str]:
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert len(messages) == len(body["errors"]), body  # one entry per field
    return messages


def _count(model: type) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_product_with_three_bad_values_names_all_three(api, owner, make_shop):
    shop = make_shop(owner)
    response = api.post("/products", as_=owner, json={"shop_id": shop.id, "name": "", "price": "-1", "stock": -1})
    body = assert_problem(response, 422, "name", "price", "stock")
    assert body["detail"] == "Some values are invalid; see errors."
    assert _errors(body) == {"name": "must not be empty", "price": "must be at least 0", "stock": "must be at least 0"}
    assert _count(Product) == 0


def test_registering_with_three_bad_values_names_all_three(api):
    response = api.post("/users/register", json={"email": "not an email", "password": "short", "name": ""})
    body = assert_problem(response, 422, "email", "password", "name")
    assert _errors(body) == {
        "email": "is not a valid email address",
        "password": "must be 8 to 128 characters",
        "name": "must not be empty",
    }
    assert _count(User) == 0


def test_missing_references_are_named_beside_the_bad_values(api, owner):
    data = {"shop_id": 2**31 - 1, "category_id": 2**31 - 1, "name": "\x1b[31mMug", "price": "1.234", "stock": 1}
    body = assert_problem(api.post("/products", as_=owner, json=data), 422, "shop_id", "category_id", "name", "price")
    assert _errors(body) == {
        "shop_id": "refers to a shop that does not exist",
        "category_id": "refers to a category that does not exist",
        "name": "must not contain control characters (NUL, escapes, text-direction marks)",
        "price": "must have at most 2 decimal places",
    }


def test_an_edit_with_one_bad_value_writes_none_of_the_good_ones(api, owner, make_shop, make_product):
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


def test_a_refusal_of_the_whole_request_wins_over_bad_values(api, owner, other, make_shop):
    """Another owner's shop is a 403 whatever else is wrong: fixing the values would not help."""
    theirs = make_shop(other, name="Theirs")
    response = api.post("/products", as_=owner, json={"shop_id": theirs.id, "name": "", "price": "-1", "stock": -1})
    assert assert_problem(response, 403)["detail"] == "You can only put products in your own shops."
    assert _count(Product) == 0


def test_a_taken_email_is_a_409_once_the_values_are_valid(api, make_user):
    make_user(email="ann@example.com")
    response = api.post("/users/register", json={"email": "ANN@example.com", "password": "x", "name": ""})
    body = assert_problem(response, 422, "password", "name")
    assert "email" not in _errors(body)
    response = api.post("/users/register", json={"email": "ANN@example.com", "password": "long enough", "name": "A"})
    assert assert_problem(response, 409)["detail"] == "An account with this email already exists."
