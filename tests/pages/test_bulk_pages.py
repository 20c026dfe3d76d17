"""Bulk edits in the owner's products table: the plain form (a redirect and a summary), htmx (the table swapped in
place), the page's rows and every row a filter matches (at most 1 000), the undo of a bulk delete, and refusals
that write nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from shopapp.extensions import db
from shopapp.products import bulk
from shopapp.products.models import Product
from tests.pages.conftest import HTMX, post, text


@pytest.fixture
def table(owner, make_shop, make_product):
    shop = make_shop(owner)
    ids = [make_product(shop, name=f"Mug {n}", price=Decimal("19.99")).id for n in range(3)]
    return shop, ids


def _undo_url(page, shop):
    match = re.search(rf'action="(/dashboard/shops/{shop.id}/products/bulk/undo/[0-9]+)"', page)
    assert match, page
    return match.group(1)


def _url(shop, query=""):
    return f"/dashboard/shops/{shop.id}/products/bulk{query}"


def test_the_table_has_a_checkbox_per_row_and_the_bulk_form(client, table):
    shop, ids = table
    page = text(client.get(f"/dashboard/shops/{shop.id}/products"))
    for product_id in ids:
        assert f'name="product_ids" value="{product_id}" form="bulk-form"' in page
    assert 'id="bulk-form"' in page and f'action="{_url(shop)}"' in page
    assert "All 3 on this page" in page and "All 3 matching this filter" in page
    assert ">Apply</button>" in page


def test_without_js_a_post_redirects_with_a_summary(client, table, fresh):
    shop, ids = table
    data = {"action": "deactivate", "scope": "selected", "product_ids": ids[:2]}
    response = post(client, _url(shop, "?q=Mug&sort=-price"), data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/dashboard/shops/{shop.id}/products?q=Mug&sort=-price"
    page = text(client.get(response.headers["Location"]))
    assert "2 products deactivated." in page
    assert [fresh(Product, i).is_active for i in ids] == [False, False, True]
    again = post(client, _url(shop), {"action": "deactivate", "scope": "page", "page_ids": ids}, follow_redirects=True)
    assert "1 product deactivated. 2 unchanged (already so)." in text(again)


def test_with_htmx_the_table_is_swapped_in_place(client, table, fresh):
    shop, ids = table
    data = {"action": "amount", "value": "-20", "scope": "selected", "product_ids": [ids[0]]}
    response = post(client, _url(shop), data, headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="bulk-form"' in body  # the table, not the page
    assert "1 product repriced." in body  # the message region, out of band
    assert fresh(Product, ids[0]).price == Decimal("0.00")  # never below 0


def test_every_action_from_the_form(client, table, make_category, fresh, owner):
    shop, ids = table
    category = make_category(owner, name="Cups")
    steps = [
        ({"action": "set_category", "category_id": str(category.id)}, "3 products moved."),
        ({"action": "set_stock", "value": "42"}, "3 products given the new stock."),
        ({"action": "percent", "value": "10"}, "3 products repriced."),
        ({"action": "activate"}, "0 products activated. 3 unchanged (already so)."),
    ]
    for data, said in steps:
        response = post(client, _url(shop), {**data, "scope": "page", "page_ids": ids}, follow_redirects=True)
        assert said in text(response)
    product = fresh(Product, ids[1])
    assert (product.category_id, product.stock, product.price) == (category.id, 42, Decimal("21.99"))


def test_all_matching_the_filter(client, table, make_product, fresh):
    shop, ids = table
    other = make_product(shop, name="Lamp").id
    data = {"action": "set_stock", "value": "7", "scope": "all"}
    response = post(client, _url(shop, "?q=mug"), data, follow_redirects=True)
    assert "3 products given the new stock." in text(response)
    assert [fresh(Product, i).stock for i in ids] == [7, 7, 7] and fresh(Product, other).stock == 5


def test_more_than_1000_matching_is_refused_and_nothing_written(app, client, owner, make_shop, monkeypatch, fresh):
    shop = make_shop(owner)
    with app.app_context():
        rows = [
            Product(shop_id=shop.id, name=f"Item {n}", slug="item", price=Decimal("1.00"), stock=1) for n in range(4)
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
    monkeypatch.setattr(bulk, "MAX_IDS", 3)
    response = post(client, _url(shop), {"action": "deactivate", "scope": "all"})
    assert response.status_code == 422
    assert "More than 3 products match this filter; a bulk edit takes at most 3." in text(response)
    assert all(fresh(Product, i).is_active for i in ids)


def test_a_bulk_delete_can_be_undone(client, table, make_product, fresh):
    shop, ids = table
    lone = make_product(shop, name="Vase").id
    post(client, f"/dashboard/products/{lone}/delete")  # deleted on its own: the bulk undo leaves it
    response = post(client, _url(shop), {"action": "delete", "scope": "selected", "product_ids": ids[:2]})
    page = text(client.get(response.headers["Location"]))
    assert "2 products deleted." in page and ">Undo</button>" in page
    undo = _undo_url(page, shop)
    assert all(fresh(Product, i).deleted_at is not None for i in ids[:2])
    restored = post(client, undo, follow_redirects=True)
    assert "2 products restored." in text(restored)
    assert all(fresh(Product, i).deleted_at is None for i in ids) and fresh(Product, lone).deleted_at is not None
    assert "Nothing to undo" in text(post(client, undo, follow_redirects=True))


def test_another_owner_cannot_undo_or_edit(client, table, make_user, auth, fresh):
    shop, ids = table
    response = post(client, _url(shop), {"action": "delete", "scope": "selected", "product_ids": ids})
    undo = _undo_url(text(client.get(response.headers["Location"])), shop)
    client.post("/logout", data={"csrf_token": ""})
    auth.login(make_user(email="intruder@example.com"))
    assert post(client, undo).status_code in (403, 404)
    assert post(client, _url(shop), {"action": "restore", "scope": "page", "page_ids": ids}).status_code in (403, 404)
    assert all(fresh(Product, i).deleted_at is not None for i in ids)


def test_refusals_are_form_errors_and_write_nothing(client, table, make_shop, make_product, owner, fresh):
    shop, ids = table
    theirs = make_product(make_shop()).id
    cases = [
        ({"action": "deactivate", "scope": "selected"}, "Select at least one product"),
        ({"action": "set_stock", "value": "lots", "scope": "page", "page_ids": ids}, "Value: must be a whole number"),
        ({"action": "percent", "value": "1.234", "scope": "page", "page_ids": ids}, "must have at most 2 decimal"),
        ({"action": "explode", "scope": "page", "page_ids": ids}, "Action: Not a valid choice"),
        (
            {"action": "set_category", "category_id": "999999", "scope": "page", "page_ids": ids},
            "Category: Not a valid",
        ),
    ]
    for data, said in cases:
        response = post(client, _url(shop), data, headers=HTMX)
        assert response.status_code == 422 and said in text(response), (data, text(response))
    refused = post(client, _url(shop), {"action": "deactivate", "scope": "selected", "product_ids": [ids[0], theirs]})
    assert refused.status_code == 404  # someone else's product: the 404 page, as for a single edit
    assert all(fresh(Product, i).is_active and fresh(Product, i).stock == 5 for i in ids)
    ticked = post(
        client, _url(shop), {"action": "set_stock", "value": "-1", "scope": "selected", "product_ids": [ids[1]]}
    )
    assert ticked.status_code == 422 and "must be a whole number" in text(ticked)
    assert f'value="{ids[1]}" form="bulk-form" checked' in text(ticked)  # still ticked
