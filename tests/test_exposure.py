"""Responses expose allow-listed fields only: no password hash anywhere, no owner's account email in
public pages or public API answers (a shop's contact email is public by design), and nothing
soft-deleted in a public list or detail."""

from __future__ import annotations

import pytest

from shopapp.extensions import db
from shopapp.products import services as products
from shopapp.shops import services as shops
from tests.api.conftest import Api
from tests.conftest import DEFAULT_PASSWORD

ACCOUNT_EMAIL = "owner.private@example.com"
CONTACT_EMAIL = "hello@shop.example"


@pytest.fixture
def catalog(app, make_user, make_shop, make_product, make_category):  # type: ignore[no-untyped-def]
    owner = make_user(email=ACCOUNT_EMAIL, name="Olga Owner")
    shop = make_shop(owner, name="Olga's", email=CONTACT_EMAIL)
    category = make_category(owner, name="Lamps")
    product = make_product(shop, name="Desk lamp", category_id=category.id)
    gone_product = make_product(shop, name="Withdrawn lamp", category_id=category.id)
    gone_shop = make_shop(owner, name="Closed shop")
    make_product(gone_shop, name="Orphaned lamp")
    with app.app_context():
        products.delete_product(owner, gone_product.id)
        shops.delete_shop(owner, gone_shop.id)
        db.session.commit()
    return {"owner": owner, "shop": shop, "category": category, "product": product, "gone": gone_product}


DELETED_NAMES = ("Withdrawn lamp", "Closed shop", "Orphaned lamp")


def test_public_pages_show_the_contact_email_but_no_account_email_hash_or_deleted_row(client, catalog):
    shop, product, category = catalog["shop"], catalog["product"], catalog["category"]
    pages = ["/", "/products", "/shops", f"/shops/{shop.id}", f"/products/{product.id}", f"/categories/{category.id}"]
    seen = ""
    for page in pages:
        response = client.get(page, follow_redirects=True)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        assert ACCOUNT_EMAIL not in html and "$argon2" not in html, page
        for name in DELETED_NAMES:
            assert name not in html, (page, name)
        seen += html
    assert CONTACT_EMAIL in seen and "Desk lamp" in seen
    assert client.get(f"/products/{catalog['gone'].id}", follow_redirects=True).status_code == 404


def test_public_api_answers_hold_no_account_email_hash_or_deleted_row(client, catalog):
    api = Api(client)
    shop, product, category = catalog["shop"], catalog["product"], catalog["category"]
    reads = [
        "/shops",
        f"/shops/{shop.id}",
        "/products",
        f"/products/{product.id}",
        "/categories",
        f"/categories/{category.id}",
    ]
    for path in reads:
        response = api.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert ACCOUNT_EMAIL not in body and "password" not in body and "$argon2" not in body, path
        for name in DELETED_NAMES:
            assert name not in body, (path, name)
    assert api.get(f"/shops/{shop.id}").get_json()["email"] == CONTACT_EMAIL
    assert api.get(f"/products/{catalog['gone'].id}").status_code == 404


def test_no_answer_about_an_account_carries_its_password_hash(client, catalog):
    """The account's own answers (register, login, me, account page) name the user but never the hash."""
    api = Api(client)
    token = api.post("/users/login", json={"email": ACCOUNT_EMAIL, "password": DEFAULT_PASSWORD}).get_json()
    me = api.get("/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}).get_json()
    assert set(me) == {"id", "email", "name", "is_active", "created_at"}
    registered = api.post("/users/register", json={"email": "new@example.com", "password": "p" * 12, "name": "N"})
    assert set(registered.get_json()) == set(me)
    assert set(token) == {"access_token", "token_type", "expires_in"}
