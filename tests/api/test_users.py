"""POST /users/register, /users/login, /users/logout; GET /users/me, /users/me/products and /users/me/shops."""

from __future__ import annotations

from shopapp.auth import services as auth
from shopapp.extensions import db
from tests.api.conftest import assert_problem
from tests.api.test_shops import SHOP_FIELDS
from tests.conftest import DEFAULT_PASSWORD


def test_register_returns_the_user_without_secrets(api):
    response = api.post(
        "/users/register", json={"email": "Ann@Example.com", "password": "long enough", "name": " Ann "}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "email", "name", "is_active", "created_at"}
    assert body["email"] == "ann@example.com" and body["name"] == "Ann" and body["is_active"] is True
    assert body["created_at"].endswith("Z")
    assert response.mimetype == "application/json"


def test_register_refuses_an_existing_email_in_any_case(api, make_user):
    make_user(email="taken@example.com")
    response = api.post("/users/register", json={"email": "TAKEN@example.com", "password": "long enough", "name": "X"})
    body = assert_problem(response, 409)
    assert "already exists" in body["detail"]


def test_register_names_every_missing_or_wrong_field(api):
    response = api.post("/users/register", json={"email": 5, "is_admin": True})
    body = assert_problem(response, 422, "email", "password", "name", "is_admin")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages == {
        "email": "must be a string",
        "password": "is required",
        "name": "is required",
        "is_admin": "is not a field you can set",
    }


def test_register_applies_the_business_rules(api):
    short = api.post("/users/register", json={"email": "a@example.com", "password": "short", "name": "A"})
    assert assert_problem(short, 422, "password")["errors"][0]["message"] == "must be 8 to 128 characters"
    bad_email = api.post("/users/register", json={"email": "nope", "password": "long enough", "name": "A"})
    assert_problem(bad_email, 422, "email")


def test_login_gives_a_bearer_token_that_works(api, make_user):
    make_user(email="me@example.com")
    response = api.post("/users/login", json={"email": " ME@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = api.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["email"] == "me@example.com"


def test_login_answers_alike_for_unknown_email_and_wrong_password(api, make_user):
    make_user(email="me@example.com")
    unknown = api.post("/users/login", json={"email": "ghost@example.com", "password": DEFAULT_PASSWORD})
    wrong = api.post("/users/login", json={"email": "me@example.com", "password": "wrong password"})
    assert assert_problem(unknown, 401) == assert_problem(wrong, 401)


def test_login_of_a_deactivated_user_fails_like_a_wrong_password(api, make_user, app):
    user = make_user(email="me@example.com")
    with app.app_context():
        auth.set_active(user.email, active=False)
        db.session.commit()
    response = api.post("/users/login", json={"email": "me@example.com", "password": DEFAULT_PASSWORD})
    assert assert_problem(response, 401)["detail"] == auth.BAD_CREDENTIALS


def test_eleventh_failed_login_for_one_email_is_throttled_whatever_the_ip(api, make_user):
    make_user(email="me@example.com")
    for attempt in range(10):
        spoofed = {"X-Forwarded-For": f"10.0.0.{attempt}"}
        response = api.post("/users/login", json={"email": "me@example.com", "password": "bad"}, headers=spoofed)
        assert response.status_code == 401
    # Another spelling of the same account, another "client", and even the right password: still throttled.
    response = api.post(
        "/users/login",
        json={"email": " ME@Example.com ", "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    body = assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many" in body["detail"]


def test_throttle_is_per_account(api, make_user):
    make_user(email="me@example.com")
    make_user(email="you@example.com")
    for _ in range(10):
        api.post("/users/login", json={"email": "me@example.com", "password": "bad"})
    response = api.post("/users/login", json={"email": "you@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200


def test_me_needs_a_token(api):
    assert_problem(api.get("/users/me"), 401)


def test_logout_revokes_every_earlier_token(api, owner):
    first, second = api.auth(owner), api.auth(owner)
    assert api.post("/users/logout", headers=first).status_code == 204
    assert_problem(api.get("/users/me", headers=first), 401)
    assert_problem(api.get("/users/me", headers=second), 401)
    assert api.get("/users/me", as_=owner).status_code == 200  # a token issued afterwards works


def test_my_products_by_status(api, owner, other, make_shop, make_product):
    shop = make_shop(owner, name="Mine")
    live = make_product(shop, name="Live")
    hidden = make_product(shop, name="Hidden", is_active=False)
    gone = make_product(shop, name="Gone")
    make_product(make_shop(other, name="Theirs"), name="Not mine")
    api.delete(f"/products/{gone.id}", as_=owner)

    def names(status: str | None) -> list[str]:
        path = "/users/me/products" + (f"?status={status}" if status else "")
        response = api.get(path, as_=owner)
        assert response.status_code == 200
        return [p["name"] for p in response.get_json()["items"]]

    assert names(None) == names("active") == [live.name]
    assert names("inactive") == [hidden.name]
    assert names("deleted") == [gone.name]
    assert_problem(api.get("/users/me/products?status=all", as_=owner), 422, "status")
    assert_problem(api.get("/users/me/products"), 401)


def test_my_shops_by_status_inactive_and_deleted_ones_included(api, owner, other, make_shop):
    make_shop(owner, name="B open")
    make_shop(owner, name="A open")
    make_shop(owner, name="Closed", is_active=False)
    gone = make_shop(owner, name="Gone")
    make_shop(other, name="Not mine")
    api.delete(f"/shops/{gone.id}", as_=owner)

    def names(query: str = "") -> list[str]:
        response = api.get("/users/me/shops" + query, as_=owner)
        assert response.status_code == 200, response.get_json()
        return [shop["name"] for shop in response.get_json()["items"]]

    assert names() == ["A open", "B open", "Closed"]  # by default, every shop not deleted
    assert names("?status=active") == ["A open", "B open"]
    assert names("?status=inactive") == ["Closed"]
    assert names("?status=deleted") == ["Gone"]
    second = api.get("/users/me/shops?per_page=2&page=2", as_=owner).get_json()
    assert [s["name"] for s in second["items"]] == ["Closed"]
    assert (second["page"], second["per_page"], second["total"], second["pages"]) == (2, 2, 3, 2)
    assert second["total_is_lower_bound"] is False
    assert set(second["items"][0]) == SHOP_FIELDS
    for bad in ("all", ""):
        body = assert_problem(api.get(f"/users/me/shops?status={bad}", as_=owner), 422, "status")
        assert body["errors"][0]["message"] == "must be one of active, inactive, deleted"
    assert_problem(api.get("/users/me/shops?per_page=101", as_=owner), 422, "per_page")
    assert_problem(api.get("/users/me/shops"), 401)


def test_token_and_per_caller_answers_are_not_cached(api, make_user):
    user = make_user(email="me@example.com")
    login = api.post("/users/login", json={"email": "me@example.com", "password": DEFAULT_PASSWORD})
    assert login.headers["Cache-Control"] == "no-store"
    assert api.get("/users/me", as_=user).headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in api.get("/products").headers
