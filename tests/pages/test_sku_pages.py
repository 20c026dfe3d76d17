"""SKUs on the owner's pages: set and changed in the product form, a clash or a bad SKU marked beside the field
(with every other bad field), shown in the products table, found by the table's search; and on the product page."""

from __future__ import annotations

from sqlalchemy import select

from shopapp.extensions import db
from shopapp.products.models import Product
from tests.pages.conftest import HTMX, post, text
from tests.pages.test_every_invalid_field import field_errors

RULE = "must be 1 to 64 visible ASCII characters (letters, digits, punctuation; no spaces)"


def test_the_form_sets_changes_and_clears_the_sku(app, client, owner, make_shop, fresh):
    shop = make_shop(owner)
    page = text(client.get(f"/dashboard/shops/{shop.id}/products/new"))
    assert ">SKU</label>" in page and 'name="sku"' in page
    data = {"name": "Mug", "price": "9.50", "stock": "4", "is_active": "y", "sku": "  MUG-1 "}
    created = post(client, f"/dashboard/shops/{shop.id}/products/new", data, follow_redirects=True)
    assert "SKU <code>MUG-1</code>" in text(created)  # in the table, trimmed
    with app.app_context():
        product_id = db.session.scalar(select(Product.id))
    edit = text(client.get(f"/dashboard/products/{product_id}/edit"))
    assert 'value="MUG-1"' in edit
    post(client, f"/dashboard/products/{product_id}/edit", {**data, "sku": "mug-2"})
    assert fresh(Product, product_id).sku == "mug-2"
    post(client, f"/dashboard/products/{product_id}/edit", {**data, "sku": "   "})
    assert fresh(Product, product_id).sku is None


def test_a_clash_in_another_case_is_marked_beside_the_sku(client, owner, make_shop, make_product, row_count):
    shop = make_shop(owner)
    make_product(shop, name="Blue", sku="ABC")
    data = {"name": "Green", "price": "9.50", "stock": "4", "sku": "abc"}
    refused = post(client, f"/dashboard/shops/{shop.id}/products/new", data)
    assert refused.status_code == 422  # a page form refused, as a taken name is
    assert 'id="sku-error"' in text(refused) and "already has a product with this SKU" in text(refused)
    assert 'value="abc"' in text(refused) and row_count(Product) == 1


def test_a_bad_sku_is_marked_with_every_other_bad_field(client, owner, make_shop, row_count):
    shop = make_shop(owner)
    data = {"name": "\x1b[31mMug", "price": "1.999", "stock": "2", "sku": "two words"}
    errors = field_errors(post(client, f"/dashboard/shops/{shop.id}/products/new", data))
    assert errors == {
        "name": "must not contain control characters (NUL, escapes, text-direction marks)",
        "price": "must have at most 2 decimal places",
        "sku": RULE,
    }
    errors = field_errors(post(client, f"/dashboard/shops/{shop.id}/products/new", {**data, "sku": "x" * 65}))
    assert errors["sku"] == RULE
    assert row_count(Product) == 0


def test_the_tables_search_finds_a_sku_exactly(client, owner, make_shop, make_product):
    shop = make_shop(owner)
    make_product(shop, name="Red Mug", sku="R-1")
    make_product(shop, name="Green Vase", sku="R-10")
    table = text(client.get(f"/dashboard/shops/{shop.id}/products?q=r-1", headers=HTMX))
    assert "Red Mug" in table and "Green Vase" not in table


def test_the_product_page_shows_the_sku(client, make_product):
    with_sku, without = make_product(name="Lamp", sku="LMP-7"), make_product(name="Vase")
    page = text(client.get(f"/products/{with_sku.id}-{with_sku.slug}"))
    assert 'SKU: <span class="product-sku">LMP-7</span>' in page and '"sku": "LMP-7"' in page
    assert "SKU:" not in text(client.get(f"/products/{without.id}-{without.slug}"))
