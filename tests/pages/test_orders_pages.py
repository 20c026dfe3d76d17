"""The customers' and owners' order pages with JavaScript off (the test client), htmx where they answer it.

Cart (anonymous, then merged on login or registration), grouped by shop with totals and unavailable items;
checkout (address, review, place, confirmation, a price change, stock gone, a double submit); "My orders";
privacy (another user gets 404, the shared cache never shows one visitor's cart count to another); the owner's
list, transitions (a stale tab's 409) and CSV export. Every test runs with the shared cache on (tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from shopapp.extensions import db
from shopapp.mail.models import OutboxMail
from shopapp.orders.models import Order
from shopapp.products import services as products
from tests.conftest import DEFAULT_PASSWORD
from tests.pages.conftest import HTMX, Auth, post, text

ADDRESS = {
    "name": "Cat Customer",
    "line1": "1 Main Street",
    "line2": "",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "de",
    "note": "Ring twice",
}


def _count(body: str) -> str | None:
    """The header's cart count as shown, or None when it shows none."""
    match = re.search(r'<span class="cart-count">(\d+)<', body)
    return match.group(1) if match else None


def add(client: FlaskClient, product: Any, quantity: int = 1, **kwargs: Any) -> TestResponse:
    return post(client, "/cart/add", {"product_id": product.id, "quantity": quantity, "next": "/"}, **kwargs)


@pytest.fixture
def two_shops(make_user, make_shop, make_product):  # type: ignore[no-untyped-def]
    """Two owners, a shop each (shipping 4.90 and 0.00), a product each."""
    olga, pete = make_user(email="olga@example.com", name="Olga"), make_user(email="pete@example.com", name="Pete")
    lamps = make_shop(olga, name="Lamp Corner", shipping_fee="4.90")
    mugs = make_shop(pete, name="Mug House")
    lamp = make_product(lamps, name="Brass Lamp", price=Decimal("40.00"), stock=3)
    mug = make_product(mugs, name="Blue Mug", price=Decimal("12.50"), stock=10)
    return {"olga": olga, "pete": pete, "lamps": lamps, "mugs": mugs, "lamp": lamp, "mug": mug}


@pytest.fixture
def customer(make_user):  # type: ignore[no-untyped-def]
    return make_user(email="cat@example.com", name="Cat Customer")


# --- the cart ----------------------------------------------------------------------------------------------


def test_an_anonymous_cart_merges_into_the_account_on_login(client, auth, customer, two_shops):
    assert _count(text(client.get("/"))) is None  # no cart, no count
    response = add(client, two_shops["lamp"], 2)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "is in your cart" in text(client.get("/"))
    add(client, two_shops["mug"])
    assert _count(text(client.get("/cart"))) == "3"

    auth.login(customer)
    page = text(client.get("/cart"))
    assert _count(page) == "3" and "Brass Lamp" in page and "Blue Mug" in page
    auth.logout()
    assert _count(text(client.get("/"))) is None  # the cart stays with the account
    auth.login(customer)
    assert _count(text(client.get("/"))) == "3"


def test_merging_adds_quantities_capped_at_stock_also_on_registration(app, client, auth, customer, two_shops):
    auth.login(customer)
    add(client, two_shops["lamp"], 2)
    auth.logout()
    add(client, two_shops["lamp"], 2)  # 2 + 2 > stock 3
    auth.login(customer)
    assert _count(text(client.get("/cart"))) == "3"

    newcomer = app.test_client()
    add(newcomer, two_shops["mug"], 4)
    response = post(
        newcomer,
        "/register?next=/checkout",
        {"name": "New Nina", "email": "nina@example.com", "password": DEFAULT_PASSWORD, "next": "/checkout"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/checkout"
    assert _count(text(newcomer.get("/cart"))) == "4"


def test_the_cart_groups_by_shop_with_line_totals_fees_and_the_total(client, two_shops):
    add(client, two_shops["lamp"], 2)
    add(client, two_shops["mug"], 3)
    page = text(client.get("/cart")).split('<div id="cart">')[1]
    lamps, mugs = page.index("Lamp Corner"), page.index("Mug House")
    assert lamps < page.index("Brass Lamp") < mugs < page.index("Blue Mug")
    for amount in ("€80.00", "€4.90", "€84.90", "€37.50", "€0.00", "€117.50", "€122.40"):
        assert amount in page, amount
    assert "5 items" in page


def test_quantities_change_as_a_plain_form_and_in_place(client, two_shops):
    lamp = two_shops["lamp"]
    add(client, lamp)
    response = post(client, f"/cart/items/{lamp.id}", {"quantity": "2"})
    assert response.status_code == 302
    assert "€80.00" in text(client.get("/cart"))

    fragment = post(client, f"/cart/items/{lamp.id}", {"quantity": "3"}, headers=HTMX)
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body and "€120.00" in body
    assert 'id="cart-link" href="/cart" hx-swap-oob="true"' in body and _count(body) == "3"

    too_many = post(client, f"/cart/items/{lamp.id}", {"quantity": "4"}, headers=HTMX)
    assert too_many.status_code == 409 and "only 3 left" in text(too_many)
    nonsense = post(client, f"/cart/items/{lamp.id}", {"quantity": "many"})
    assert nonsense.status_code == 422 and 'aria-invalid="true"' in text(nonsense)

    removed = post(client, f"/cart/items/{lamp.id}/remove", headers=HTMX)
    assert "Your cart is empty" in text(removed)


def test_add_to_cart_in_place_updates_the_header_count(client, two_shops):
    response = add(client, two_shops["mug"], 2, headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "“Blue Mug” is in your cart" in body
    assert 'hx-swap-oob="true"' in body and _count(body) == "2"
    refused = add(client, two_shops["lamp"], 5, headers=HTMX)
    assert refused.status_code == 409 and "only 3 left" in text(refused)


def test_add_to_cart_forms_are_on_the_product_page_and_the_cards(client, two_shops):
    lamp = two_shops["lamp"]
    for url in ("/", f"/products/{lamp.id}-brass-lamp"):
        page = text(client.get(url))
        assert 'action="/cart/add"' in page and f'name="product_id" value="{lamp.id}"' in page, url
        assert 'name="quantity"' in page


def test_unavailable_items_are_marked_with_the_reason(app, client, two_shops):
    lamp, mug = two_shops["lamp"], two_shops["mug"]
    add(client, lamp, 3)
    add(client, mug)
    with app.app_context():
        products.update_product(two_shops["olga"], lamp.id, {"stock": 1})
        products.update_product(two_shops["pete"], mug.id, {"is_active": False})
        db.session.commit()
    page = text(client.get("/cart"))
    assert "Unavailable: only 1 left" in page and "Unavailable: no longer sold" in page


def test_the_cached_catalog_never_shows_another_visitors_cart_count(app, client, customer, two_shops):
    assert app.config["CACHE_URL"]
    stranger = app.test_client()
    stranger.get("/")  # a copy of the catalog for anonymous readers
    add(client, two_shops["mug"], 2)
    assert _count(text(client.get("/"))) == "2"  # the visitor with a cart is not served the copy...
    for page in ("/", "/shops", f"/products/{two_shops['mug'].id}-blue-mug"):
        assert _count(text(stranger.get(page))) is None, page  # ...nor is their page stored for others
    signed_in = app.test_client()
    Auth(signed_in).login(customer)
    add(signed_in, two_shops["lamp"])
    assert _count(text(signed_in.get("/"))) == "1"
    assert _count(text(stranger.get("/"))) is None
    assert _count(text(app.test_client().get("/"))) is None


# --- checkout ----------------------------------------------------------------------------------------------


def _review(client: FlaskClient, address: dict[str, str] | None = None) -> TestResponse:
    return post(client, "/checkout", address or ADDRESS)


def _place_form(review: TestResponse) -> dict[str, str]:
    """The hidden fields of the review page's "Place order" form, as the browser would send them."""
    body = text(review)
    form = body[body.index('action="/checkout/place"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)"', form))


def _orders_of(app: Flask, email: str) -> list[Order]:
    with app.app_context():
        return list(
            db.session.scalars(select(Order).join(Order.buyer).where(Order.buyer_email == email).order_by(Order.id))
        )


def test_checkout_needs_an_account_and_comes_back_after_login(client, auth, customer, two_shops):
    add(client, two_shops["lamp"])
    response = client.get("/checkout")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/checkout"
    login = post(
        client, "/login?next=/checkout", {"email": customer.email, "password": DEFAULT_PASSWORD, "next": "/checkout"}
    )
    assert login.headers["Location"] == "/checkout"
    page = text(client.get("/checkout"))
    assert 'value="Cat Customer"' in page  # the account's name to start with


def test_every_invalid_address_field_shows_at_once(client, owner, two_shops):
    add(client, two_shops["lamp"])
    response = _review(client, {"name": "", "line1": " ", "city": "Berlin", "postal_code": "", "country": "XX"})
    page = text(response)
    assert response.status_code == 422
    assert page.count('class="field-error"') >= 4, page
    assert "ISO 3166-1" in page


def test_checkout_review_place_confirmation_and_my_orders(app, client, auth, customer, two_shops, row_count):
    auth.login(customer)
    add(client, two_shops["lamp"], 2)
    add(client, two_shops["mug"], 1)
    review = _review(client)
    page = text(review)
    assert review.status_code == 200 and "Review your order" in page
    assert "€97.40" in page and "Place order · €97.40" in page  # 80 + 4.90 + 12.50 + 0
    hidden = _place_form(review)
    assert hidden["expected_total"] == "97.40" and len(hidden["idempotency_key"]) > 20

    placed = post(client, "/checkout/place", hidden)
    assert placed.status_code == 302, text(placed)
    confirmation = text(client.get(placed.headers["Location"]))
    orders = _orders_of(app, customer.email)
    assert len(orders) == 2 and {o.shop_id for o in orders} == {two_shops["lamps"].id, two_shops["mugs"].id}
    for order in orders:
        assert order.number in confirmation
    assert _count(confirmation) is None  # the cart is empty
    assert row_count(OutboxMail) == 3  # the buyer's confirmation and each owner's new-order mail

    again = post(client, "/checkout/place", hidden)  # a double submit: the same orders, nothing new
    assert again.status_code == 302 and again.headers["Location"] == placed.headers["Location"]
    assert len(_orders_of(app, customer.email)) == 2

    mine = text(client.get("/account/orders"))
    assert all(order.number in mine for order in orders)
    detail = text(client.get(f"/account/orders/{orders[0].id}"))
    assert "1 Main Street" in detail and "Ring twice" in detail and "Cancel order" in detail
    cancelled = post(client, f"/account/orders/{orders[0].id}/cancel", {"reason": "Changed my mind"})
    assert cancelled.status_code == 302
    detail = text(client.get(f"/account/orders/{orders[0].id}"))
    assert "Cancelled" in detail and "Changed my mind" in detail and "Cancel order</button>" not in detail

    again = text(client.get("/checkout")) if add(client, two_shops["mug"]) else ""
    assert 'value="1 Main Street"' in again  # the address is remembered


def test_a_price_change_between_review_and_place_is_a_clear_message(app, client, owner, two_shops):
    add(client, two_shops["mug"], 2)
    hidden = _place_form(_review(client))
    with app.app_context():
        products.update_product(two_shops["pete"], two_shops["mug"].id, {"price": "13.00"})
        db.session.commit()
    response = post(client, "/checkout/place", hidden)
    page = text(response)
    assert response.status_code == 409 and "The total changed since you reviewed" in page
    assert "Place order · €26.00" in page  # the review again, with the new total
    assert _orders_of(app, owner.email) == []


def test_stock_gone_names_the_item(app, client, owner, two_shops):
    add(client, two_shops["lamp"], 3)
    add(client, two_shops["mug"])
    hidden = _place_form(_review(client))
    with app.app_context():
        products.update_product(two_shops["olga"], two_shops["lamp"].id, {"stock": 1})
        db.session.commit()
    response = post(client, "/checkout/place", hidden)
    page = text(response)
    assert response.status_code == 409 and "Your order was not placed" in page
    assert "Brass Lamp: only 1 left" in page
    assert _orders_of(app, owner.email) == []


def test_confirmation_and_order_pages_are_private(app, client, auth, customer, two_shops, make_user):
    auth.login(customer)
    add(client, two_shops["lamp"])
    placed = post(client, "/checkout/place", _place_form(_review(client)))
    confirmation = placed.headers["Location"]
    order = _orders_of(app, customer.email)[0]
    assert client.get(confirmation).headers["Cache-Control"] == "private, no-store"

    other = app.test_client()
    Auth(other).login(make_user(email="eve@example.com"))
    for url in (confirmation, f"/account/orders/{order.id}", f"/dashboard/orders/{order.id}"):
        assert other.get(url).status_code == 404, url
    assert post(other, f"/account/orders/{order.id}/cancel").status_code == 404
    assert post(other, f"/dashboard/orders/{order.id}/mark_paid").status_code == 404
    assert "1 Main Street" not in text(other.get("/dashboard/"))
    # The shop's owner sees it on the dashboard, not as "my order".
    olga = app.test_client()
    Auth(olga).login(two_shops["olga"])
    assert olga.get(f"/dashboard/orders/{order.id}").status_code == 200
    assert olga.get(f"/account/orders/{order.id}").status_code == 404
    assert olga.get(confirmation).status_code == 404


# --- the owner's side --------------------------------------------------------------------------------------


@pytest.fixture
def placed(app, customer, two_shops):  # type: ignore[no-untyped-def]
    """The customer bought a lamp and a mug: one order at each shop."""
    client = app.test_client()
    Auth(client).login(customer)
    add(client, two_shops["lamp"], 2)
    add(client, two_shops["mug"])
    assert post(client, "/checkout/place", _place_form(_review(client))).status_code == 302
    return {order.shop_id: order for order in _orders_of(app, customer.email)}


def test_the_owner_lists_filters_and_searches_orders(app, client, auth, two_shops, placed):
    lamps = two_shops["lamps"]
    order = placed[lamps.id]
    auth.login(two_shops["olga"])
    home = text(client.get("/dashboard/"))
    assert "1 placed" in home and "0 paid" in home
    page = text(client.get(f"/dashboard/shops/{lamps.id}/orders"))
    assert order.number in page and "cat@example.com" in page and "Placed 1" in page
    assert order.number not in text(client.get(f"/dashboard/shops/{lamps.id}/orders?status=paid"))
    assert order.number in text(client.get(f"/dashboard/shops/{lamps.id}/orders?q=CAT@example"))
    assert order.number in text(client.get(f"/dashboard/shops/{lamps.id}/orders?q={order.number.lower()}"))
    assert order.number not in text(client.get(f"/dashboard/shops/{lamps.id}/orders?q=nobody"))
    fragment = client.get(f"/dashboard/shops/{lamps.id}/orders?status=placed", headers=HTMX)
    assert "<html" not in text(fragment) and order.number in text(fragment)
    assert client.get(f"/dashboard/shops/{two_shops['mugs'].id}/orders").status_code == 404


def test_owner_transitions_as_plain_forms_and_in_place_and_a_stale_tab(
    app, client, auth, customer, two_shops, placed, fresh
):
    order = placed[two_shops["lamps"].id]
    auth.login(two_shops["olga"])
    page = text(client.get(f"/dashboard/orders/{order.id}"))
    assert "1 Main Street" in page and "Ring twice" in page and "Brass Lamp" in page
    assert "Mark paid" in page and "Cancel order" in page and "Mark shipped" not in page

    response = post(client, f"/dashboard/orders/{order.id}/mark_paid")
    assert response.status_code == 302 and fresh(Order, order.id).status == "paid"
    stale = post(client, f"/dashboard/orders/{order.id}/mark_paid", headers=HTMX)  # a second tab, still "placed"
    body = text(stale)
    assert stale.status_code == 409 and "This order is paid; it cannot be marked paid." in body
    assert "<html" not in body and "Mark shipped" in body and "Mark paid</button>" not in body

    shipped = post(client, f"/dashboard/orders/{order.id}/ship", {"tracking_number": "TRACK-123"}, headers=HTMX)
    body = text(shipped)
    assert shipped.status_code == 200 and "is marked shipped" in body and "TRACK-123" in body
    assert fresh(Order, order.id).tracking_number == "TRACK-123"
    plain_stale = post(client, f"/dashboard/orders/{order.id}/cancel")
    assert plain_stale.status_code == 409 and "This order is shipped; it cannot be cancelled." in text(plain_stale)
    assert post(client, f"/dashboard/orders/{order.id}/deliver").status_code == 302
    assert "Nothing left to do" in text(client.get(f"/dashboard/orders/{order.id}"))

    buyer = app.test_client()
    Auth(buyer).login(customer)
    detail = text(buyer.get(f"/account/orders/{order.id}"))
    assert "Delivered" in detail and "TRACK-123" in detail


def test_the_orders_csv_export_applies_the_filters(client, auth, two_shops, placed):
    lamps = two_shops["lamps"]
    order = placed[lamps.id]
    auth.login(two_shops["olga"])
    response = client.get(f"/dashboard/shops/{lamps.id}/orders.csv?status=placed")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert [row["number"] for row in rows] == [order.number]
    assert rows[0]["buyer_email"] == "cat@example.com" and rows[0]["total"] == "84.90"
    assert "2 x Brass Lamp" in rows[0]["items"]
    assert list(csv.reader(io.StringIO(text(client.get(f"/dashboard/shops/{lamps.id}/orders.csv?status=paid"))))) == [
        list(rows[0].keys())
    ]
    assert client.get(f"/dashboard/shops/{two_shops['mugs'].id}/orders.csv").status_code == 404


def test_the_shop_form_sets_the_shipping_fee(client, owner, make_shop, fresh):
    from shopapp.shops.models import Shop

    shop = make_shop(owner, name="Fee Shop")
    page = text(client.get(f"/dashboard/shops/{shop.id}/edit"))
    assert 'name="shipping_fee"' in page and 'value="0.00"' in page
    refused = post(client, f"/dashboard/shops/{shop.id}/edit", {"name": "", "shipping_fee": "-1"})
    assert refused.status_code == 422 and text(refused).count('class="field-error"') == 2
    assert (
        post(client, f"/dashboard/shops/{shop.id}/edit", {"name": "Fee Shop", "shipping_fee": "3.5"}).status_code == 302
    )
    assert fresh(Shop, shop.id).shipping_fee == Decimal("3.50")
