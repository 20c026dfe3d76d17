"""Every invalid field of a page form is marked beside it on the first submit (issue 13): what WTForms cannot read
(a blank required field, "abc" for a number, a choice not offered) and what the service's rules refuse, together."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from sqlalchemy import select

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.extensions import db
from shopapp.products.models import Product
from shopapp.shops.models import Shop
from tests.conftest import DEFAULT_PASSWORD
from tests.pages.conftest import HTMX, post, text

_FIELD_ERROR = re.compile(r'<small id="([^"]+)-error" class="field-error">([^<]*)</small>')
REQUIRED = "This field is required."
NOT_A_STOCK = "Not a valid integer value. Number must be between 0 and 1000000."  # WTForms' two checks
CONTROL = "must not contain control characters (NUL, escapes, text-direction marks)"


def field_errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each marked field's id and its message, as drawn beside it."""
    assert response.status_code == 422, text(response)
    return {ident: html.unescape(message) for ident, message in _FIELD_ERROR.findall(text(response))}


def test_registration_marks_a_blank_name_a_bad_email_and_a_short_password_at_once(client, row_count):
    refused = post(client, "/register", {"name": "", "email": "not an email", "password": "short"})
    assert field_errors(refused) == {
        "name": REQUIRED,
        "email": "is not a valid email address",
        "password": "must be 8 to 128 characters",
    }
    refused = post(client, "/register", {"name": "\x1b[31mAnn", "email": "not an email", "password": "short"})
    assert field_errors(refused) == {
        "name": CONTROL,
        "email": "is not a valid email address",
        "password": "must be 8 to 128 characters",
    }
    assert row_count(User) == 0


def test_password_change_marks_a_wrong_current_and_a_short_new_password_at_once(client, owner):
    refused = post(client, "/account/password", {"current_password": "wrong password", "new_password": "short"})
    assert field_errors(refused) == {
        "current_password": "is not your current password",
        "new_password": "must be 8 to 128 characters",
    }
    refused = post(client, "/account/password", {"current_password": "", "new_password": "short"})
    assert field_errors(refused) == {"current_password": REQUIRED, "new_password": "must be 8 to 128 characters"}
    right_but_short = post(client, "/account/password", {"current_password": DEFAULT_PASSWORD, "new_password": "x"})
    assert field_errors(right_but_short) == {"new_password": "must be 8 to 128 characters"}
    assert post(client, "/login", {"email": owner.email, "password": DEFAULT_PASSWORD}).status_code == 302


def test_shop_forms_mark_every_bad_value_at_once(app, client, owner, row_count, fresh):
    bad = {"email": "shop at example", "phone": "call me", "description": "ok", "address": "\x07"}
    expected = {
        "email": "is not a valid email address",
        "phone": "may contain only digits, spaces and + - ( )",
        "address": CONTROL,
    }
    refused = post(client, "/dashboard/shops/new", {"name": "", **bad})
    assert field_errors(refused) == {"name": REQUIRED, **expected}
    refused = post(client, "/dashboard/shops/new", {"name": "Mugs\u200b", **bad})
    assert field_errors(refused) == {"name": "must not contain invisible characters", **expected}
    assert row_count(Shop) == 0

    created = post(client, "/dashboard/shops/new", {"name": "Mugs"})
    assert created.status_code == 302
    with app.app_context():
        shop_id = db.session.scalar(select(Shop.id))
    refused = post(client, f"/dashboard/shops/{shop_id}/edit", {"name": " ", **bad})
    assert field_errors(refused) == {"name": "must not be empty", **expected}
    assert fresh(Shop, shop_id).phone == ""


def test_category_form_marks_a_bad_name_beside_a_parent_not_offered(client, owner, make_category, row_count, fresh):
    mine = make_category(owner, name="Kitchen")
    refused = post(client, "/dashboard/categories/", {"name": "Mugs\x07", "parent_id": "999999"})
    assert field_errors(refused) == {"name": CONTROL, "parent_id": "Not a valid choice."}
    refused = post(client, f"/dashboard/categories/{mine.id}/edit", {"name": "\u202eKitchen", "parent_id": "abc"})
    assert field_errors(refused) == {"name": CONTROL, "parent_id": "Invalid Choice: could not coerce."}
    assert row_count(Category) == 1 and fresh(Category, mine.id).name == "Kitchen"


def test_the_product_form_marks_every_value_the_service_refuses(client, owner, make_shop, make_product, fresh):
    product = make_product(make_shop(owner), name="Mug", price=Decimal("2.00"), stock=3)
    data = {"name": "\x1b[31mMug", "price": "1.234", "stock": "4", "description": "", "category_id": ""}
    refused = post(client, f"/dashboard/products/{product.id}/edit", data)
    assert field_errors(refused) == {"name": CONTROL, "price": "must have at most 2 decimal places"}
    assert (fresh(Product, product.id).price, fresh(Product, product.id).stock) == (Decimal("2.00"), 3)


def test_the_product_form_marks_what_wtforms_cannot_read_beside_what_the_rules_refuse(
    client, owner, make_shop, row_count
):
    shop = make_shop(owner)
    data = {"name": "", "price": "-1", "stock": "abc", "description": "a\x07b", "is_active": "y"}
    refused = post(client, f"/dashboard/shops/{shop.id}/products/new", data)
    assert field_errors(refused) == {
        "name": REQUIRED,
        "price": "must be at least 0",
        "stock": NOT_A_STOCK,
        "description": CONTROL,
    }
    assert row_count(Product) == 0


def test_quick_edit_marks_a_bad_price_and_a_bad_stock_at_once(client, owner, make_shop, make_product, fresh):
    product = make_product(make_shop(owner), price=Decimal("2.00"), stock=3)
    p = f"p{product.id}-"
    url = f"/dashboard/products/{product.id}/quick"
    refused = post(client, url, {p + "price": "-1", p + "stock": "-1", p + "version": "1"}, headers=HTMX)
    assert field_errors(refused) == {
        p + "price": "must be at least 0",
        p + "stock": "Number must be between 0 and 1000000.",
    }
    refused = post(client, url, {p + "price": "", p + "stock": "1_000", p + "version": "1"}, headers=HTMX)
    assert field_errors(refused) == {p + "price": REQUIRED, p + "stock": NOT_A_STOCK}
    assert text(refused).lstrip().startswith(f'<tr id="product-{product.id}"')
    assert fresh(Product, product.id).stock == 3
