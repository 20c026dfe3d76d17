"""Every invalid field of a page form is marked beside it on the first submit (issue 13)."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from shopapp.products.models import Product
from tests.pages.conftest import fresh, post, text

_FIELD_ERROR = re.compile(r'<small id="([^"]+)-error" class="field-error">([^<]*)</small>')
CONTROL = "must not contain control characters (NUL, escapes, text-direction marks)"


def field_errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each marked field's id and its message, as drawn beside it."""
    assert response.status_code == 422, text(response)
    return {ident: html.unescape(message) for ident, message in _FIELD_ERROR.findall(text(response))}


def test_the_product_form_marks_every_value_the_service_refuses(client, owner, make_shop, make_product):
    product = make_product(make_shop(owner), name="Mug", price=Decimal("2.00"), stock=3)
    data = {"name": "\x1b[31mMug", "price": "1.234", "stock": "4", "description": "", "category_id": ""}
    refused = post(client, f"/dashboard/products/{product.id}/edit", data)
    assert field_errors(refused) == {"name": CONTROL, "price": "must have at most 2 decimal places"}
    assert (fresh(Product, product.id).price, fresh(Product, product.id).stock) == (Decimal("2.00"), 3)
