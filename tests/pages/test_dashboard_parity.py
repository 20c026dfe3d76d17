"""What the API can do, the owner's dashboard can do too: category descriptions, moving a product to another of
one's shops, stock changes by a delta, images moved to any position, lists past 100, and the products table's
thumbnails, stock marks, sorting and counts. Refusals change nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopapp.catalog.forms import SHOP_CHOICES
from shopapp.categories.manage import PER_PAGE as CATEGORIES_PER_PAGE
from shopapp.categories.models import Category
from shopapp.categories.services import create_category
from shopapp.extensions import db
from shopapp.media.services import list_images
from shopapp.products.manage import PER_PAGE as PRODUCTS_PER_PAGE
from shopapp.products.models import LOW_STOCK, MAX_STOCK, Product
from shopapp.products.services import STOCK_OUT_OF_RANGE, update_product
from shopapp.shops.services import create_shop
from tests.media import files
from tests.pages.conftest import HTMX, post, text


def _named(app, model, name):  # type: ignore[no-untyped-def]
    """The id of the ``model`` row called ``name``."""
    with app.app_context():
        return db.session.scalars(select(model.id).where(model.name == name)).one()


def test_a_category_gets_a_description_from_the_dashboard(client, owner, fresh):
    created = post(client, "/dashboard/categories/", {"name": "Teapots", "description": "Cast iron and clay."})
    assert created.status_code == 302
    ident = _named(client.application, Category, "Teapots")
    assert fresh(Category, ident).description == "Cast iron and clay."
    form = text(client.get(f"/dashboard/categories/{ident}/edit"))
    assert 'name="description"' in form and "Cast iron and clay.</textarea>" in form
    saved = post(client, f"/dashboard/categories/{ident}/edit", {"name": "Teapots", "description": "Clay only."})
    assert saved.status_code == 302
    assert fresh(Category, ident).description == "Clay only."
    assert "Clay only." in text(client.get("/dashboard/categories/"))


def test_a_bad_category_description_is_a_form_error_and_nothing_is_saved(client, owner, make_category, fresh):
    category = make_category(owner, name="Cups", description="Kept.")
    refused = post(client, f"/dashboard/categories/{category.id}/edit", {"name": "Cups", "description": "bad\x00"})
    assert refused.status_code == 422 and "must not contain control characters" in text(refused)
    assert fresh(Category, category.id).description == "Kept."


def _product_form(product, **changes):  # type: ignore[no-untyped-def]
    """The full edit form of ``product`` as its page sends it, with ``changes``."""
    return {
        "name": product.name,
        "description": product.description,
        "price": str(product.price),
        "stock": str(product.stock),
        "is_active": "y",
        "category_id": "",
        "shop_id": str(product.shop_id),
        "version": str(product.version),
        **changes,
    }


def test_a_product_moves_to_another_of_my_shops(client, owner, make_user, make_shop, make_product, fresh):
    here, there = make_shop(owner, name="Here"), make_shop(owner, name="There")
    gone = make_shop(owner, name="Gone")
    post(client, f"/dashboard/shops/{gone.id}/delete")
    make_shop(make_user(), name="Foreign")
    product = make_product(here, name="Kettle")
    form = text(client.get(f"/dashboard/products/{product.id}/edit"))
    shop_select = form[form.index('name="shop_id"') : form.index("</select>", form.index('name="shop_id"'))]
    assert f'<option selected value="{here.id}">Here</option>' in shop_select
    assert f'value="{there.id}">There</option>' in shop_select
    assert "Gone" not in shop_select and "Foreign" not in shop_select
    moved = post(client, f"/dashboard/products/{product.id}/edit", _product_form(product, shop_id=there.id))
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/dashboard/shops/{there.id}/products")
    assert fresh(Product, product.id).shop_id == there.id
    assert "Kettle" in text(client.get(f"/dashboard/shops/{there.id}/products"))
    assert "Kettle" not in text(client.get(f"/dashboard/shops/{here.id}/products"))


def test_a_foreign_or_deleted_shop_posted_by_hand_is_a_form_error(
    client, owner, make_user, make_shop, make_product, fresh
):
    here, gone = make_shop(owner, name="Here"), make_shop(owner, name="Gone")
    post(client, f"/dashboard/shops/{gone.id}/delete")
    foreign = make_shop(make_user(), name="Foreign")
    product = make_product(here, name="Kettle")
    for shop in (foreign, gone):
        refused = post(
            client, f"/dashboard/products/{product.id}/edit", _product_form(product, shop_id=shop.id, name="Renamed")
        )
        assert refused.status_code == 422 and "Not a valid choice" in text(refused)
        kept = fresh(Product, product.id)
        assert (kept.shop_id, kept.name, kept.version) == (here.id, "Kettle", product.version)


def test_the_stock_changes_by_a_delta_from_the_edit_page(client, owner, make_shop, make_product, fresh):
    product = make_product(make_shop(owner), name="Kettle", stock=5)
    page = text(client.get(f"/dashboard/products/{product.id}/edit"))
    assert f'action="/dashboard/products/{product.id}/stock"' in page and "Stock: 5" in page
    added = post(client, f"/dashboard/products/{product.id}/stock", {"delta": "+7"})
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/dashboard/products/{product.id}/edit")
    assert fresh(Product, product.id).stock == 12
    taken = post(client, f"/dashboard/products/{product.id}/stock", {"delta": "-12"}, follow_redirects=True)
    assert "Stock of “Kettle”: 12 → 0." in text(taken) and "Stock: 0" in text(taken)
    assert fresh(Product, product.id).stock == 0


@pytest.mark.parametrize(
    ("delta", "message"),
    [
        ("-6", STOCK_OUT_OF_RANGE),
        (str(MAX_STOCK), STOCK_OUT_OF_RANGE),
        (str(MAX_STOCK + 1), f"must be at most {MAX_STOCK}"),
        ("1.5", "Not a valid integer value."),
        ("", "This field is required."),
    ],
)
def test_a_stock_change_out_of_range_is_shown_and_writes_nothing(
    client, owner, make_shop, make_product, fresh, delta, message
):
    product = make_product(make_shop(owner), name="Kettle", stock=5)
    refused = post(client, f"/dashboard/products/{product.id}/stock", {"delta": delta})
    assert refused.status_code == 422
    assert f'<small id="delta-error" class="field-error">{message}</small>' in text(refused)
    assert "Stock: 5" in text(refused)
    kept = fresh(Product, product.id)
    assert (kept.stock, kept.version) == (5, product.version)


def test_another_owners_stock_is_not_mine_to_change(client, owner, make_product, fresh):
    theirs = make_product(name="Theirs", stock=5, is_active=False)
    refused = post(client, f"/dashboard/products/{theirs.id}/stock", {"delta": "1"})
    assert refused.status_code == 404
    assert fresh(Product, theirs.id).stock == 5


def _image_order(app, product_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        return [(image.id, image.position) for image in list_images(product_id)]


def test_an_image_moves_to_any_position_in_one_step(app, client, owner, make_shop, make_product, make_image):
    product = make_product(make_shop(owner), name="Vase")
    a, b, c = (make_image(product, files.webp(size)).id for size in ((300, 200), (200, 300), (250, 250)))
    page = text(client.get(f"/dashboard/products/{product.id}/images"))
    select = page[page.index(f'id="position-{c}"') : page.index("</select>", page.index(f'id="position-{c}"'))]
    assert '<option value="0">1 (primary)</option>' in select and '<option value="2" selected>3</option>' in select
    moved = post(client, f"/dashboard/products/{product.id}/images/{c}/move", {"position": "0"})
    assert moved.status_code == 302
    assert _image_order(app, product.id) == [(c, 0), (a, 1), (b, 2)]
    gallery = post(client, f"/dashboard/products/{product.id}/images/{c}/move", {"position": "2"}, headers=HTMX)
    assert gallery.status_code == 200 and "<html" not in text(gallery) and 'id="gallery"' in text(gallery)
    assert _image_order(app, product.id) == [(a, 0), (b, 1), (c, 2)]


@pytest.mark.parametrize(
    ("position", "message"), [("3", "must be at most 2"), ("-1", "must be at least 0"), ("x", "must be at least 0")]
)
def test_a_position_the_images_do_not_have_is_refused(
    app, client, owner, make_shop, make_product, make_image, position, message
):
    product = make_product(make_shop(owner), name="Vase")
    ids = [make_image(product, files.webp(size)).id for size in ((300, 200), (200, 300), (250, 250))]
    refused = post(client, f"/dashboard/products/{product.id}/images/{ids[0]}/move", {"position": position})
    assert refused.status_code == 422 and f"<p>Position: {message}</p>" in text(refused)
    assert _image_order(app, product.id) == [(ident, n) for n, ident in enumerate(ids)]


def test_another_owners_image_does_not_move(app, client, owner, make_product, make_image):
    theirs = make_product(name="Theirs", is_active=False)
    ids = [make_image(theirs, files.webp(size)).id for size in ((300, 200), (200, 300))]
    assert post(client, f"/dashboard/products/{theirs.id}/images/{ids[1]}/move", {"position": "0"}).status_code == 404
    assert _image_order(app, theirs.id) == [(ids[0], 0), (ids[1], 1)]


def test_the_categories_dashboard_pages_past_the_first_hundred(app, client, owner):
    count = 2 * CATEGORIES_PER_PAGE + 1
    with app.app_context():
        for n in range(count):
            create_category(owner, {"name": f"Category {n:03}"})
        db.session.commit()
    first = text(client.get("/dashboard/categories/"))
    assert first.count('aria-label="Rename Category') == CATEGORIES_PER_PAGE
    assert f"{count} categories · page 1 of 3" in first and 'href="/dashboard/categories/?page=3"' in first
    last = client.get("/dashboard/categories/?page=3", headers=HTMX)
    assert "<html" not in text(last) and text(last).count('aria-label="Rename Category') == 1
    assert f"Category {count - 1:03}" in text(last) and "Category 000" not in text(last)
    assert "There is no page 9" in text(client.get("/dashboard/categories/?page=9"))


def _many_shops(app, owner, count):  # type: ignore[no-untyped-def]
    """``count`` live shops "Shop 000"...; their ids by name."""
    with app.app_context():
        made = [create_shop(owner, {"name": f"Shop {n:03}"}) for n in range(count)]
        db.session.commit()
        return {shop.name: shop.id for shop in made}


def _shop_options(page: str) -> str:
    start = page.index('id="shop"')
    return page[start : page.index("</select>", start)]


def test_the_catalog_shop_filter_finds_shops_after_the_hundredth(app, client, make_user, queries):
    shops = _many_shops(app, make_user(), SHOP_CHOICES + 5)
    options = _shop_options(text(client.get("/")))
    assert "Shop 099" in options and "Shop 100" not in options and 'id="shop_q"' in text(client.get("/"))
    queries.clear()
    found = text(client.get("/?shop_q=shop+10"))
    assert len([sql for sql in queries.sql if sql.startswith("SELECT shops.id")]) == 1, queries.sql  # one query
    assert [name for name in shops if f">{name}<" in _shop_options(found)] == [f"Shop 10{n}" for n in range(5)]
    kept = _shop_options(text(client.get(f"/?shop={shops['Shop 104']}")))  # chosen, but not among the first 100
    assert f'<option selected value="{shops["Shop 104"]}">Shop 104</option>' in kept and "Shop 000" in kept
    narrowed = _shop_options(text(client.get(f"/?shop_q=shop+00&shop={shops['Shop 104']}")))
    names = [name for name in shops if f">{name}<" in narrowed]
    assert names == [f"Shop 00{n}" for n in range(10)] + ["Shop 104"]


def test_with_htmx_a_shop_search_also_redraws_the_shop_choices(app, client, make_user):
    _many_shops(app, make_user(), 3)
    found = text(client.get("/?shop_q=001", headers=HTMX))
    assert "<html" not in found and '<div id="shop-choices" hx-swap-oob="true">' in found
    assert ">Shop 001<" in found and ">Shop 002<" not in found
    assert 'id="shop_q"' not in found  # the box being typed in is left alone, and keeps its focus
    assert "shop-choices" not in text(client.get("/?q=mug", headers=HTMX))


def _names_in_table(page: str) -> list[str]:
    return re.findall(r'<td class="product-name">\s*<a href="[^"]+">([^<]+)</a>', page)


def test_the_products_table_shows_thumbnails_and_stock_marks(client, owner, make_shop, make_product, make_image):
    shop = make_shop(owner)
    pictured = make_product(shop, name="Pictured", stock=LOW_STOCK + 1)
    image = make_image(pictured, files.webp((300, 200)))
    make_product(shop, name="Gone", stock=0)
    make_product(shop, name="Few", stock=LOW_STOCK)
    page = text(client.get(f"/dashboard/shops/{shop.id}/products"))
    rows = {
        name: page[page.index(f">{name}</a>") : page.index("</tr>", page.index(f">{name}</a>"))]
        for name in ("Pictured", "Gone", "Few")
    }
    assert f"{image.storage_key}-small.webp" in page[page.index('<td class="thumb"><img') :][:300]
    assert "Out of stock" in rows["Gone"] and "Low stock" not in rows["Gone"]
    assert "Low stock" in rows["Few"] and "Out of stock" not in rows["Few"]
    assert "stock-mark" not in rows["Pictured"]


def test_the_products_table_sorts_by_its_column_headings(client, owner, make_shop, make_product, app):
    shop = make_shop(owner)
    for name, price, stock in (("Bowl", "30.00", 1), ("Cup", "10.00", 3), ("Adze", "20.00", 2)):
        make_product(shop, name=name, price=Decimal(price), stock=stock)
    url = f"/dashboard/shops/{shop.id}/products"
    default = text(client.get(url))
    assert _names_in_table(default) == ["Adze", "Bowl", "Cup"]
    assert '<th scope="col" aria-sort="ascending">' in default and f'href="{url}?sort=-name"' in default
    assert f'href="{url}?sort=price"' in default and f'href="{url}?sort=updated"' in default
    assert _names_in_table(text(client.get(f"{url}?sort=price"))) == ["Cup", "Adze", "Bowl"]
    by_stock = text(client.get(f"{url}?sort=-stock"))
    assert _names_in_table(by_stock) == ["Cup", "Adze", "Bowl"]
    assert 'aria-sort="descending"' in by_stock and f'href="{url}?sort=stock"' in by_stock
    with app.app_context():
        update_product(owner, _named(app, Product, "Bowl"), {"stock": 9})
        db.session.commit()
    assert _names_in_table(text(client.get(f"{url}?sort=-updated")))[0] == "Bowl"
    # Not on the list: the default order, never an error or a column picked from the URL.
    assert _names_in_table(text(client.get(f"{url}?sort=shop_id"))) == ["Adze", "Bowl", "Cup"]


def test_search_sort_and_paging_work_together(client, owner, make_shop, make_product):
    shop = make_shop(owner)
    for n in range(PRODUCTS_PER_PAGE + 2):
        make_product(shop, name=f"Mug {n:02}", price=Decimal(f"{n + 1}.00"))
    make_product(shop, name="Plate", price=Decimal("999.00"))
    url = f"/dashboard/shops/{shop.id}/products"
    first = text(client.get(f"{url}?q=mug&sort=-price"))
    assert _names_in_table(first)[:2] == [f"Mug {PRODUCTS_PER_PAGE + 1:02}", f"Mug {PRODUCTS_PER_PAGE:02}"]
    assert "Plate" not in first and f"{PRODUCTS_PER_PAGE + 2} active products matching “mug”" in first
    assert 'name="sort" value="-price"' in first  # the search box keeps the order
    assert f'href="{url}?q=mug&amp;sort=-price&amp;page=2"' in first
    second = text(client.get(f"{url}?q=mug&sort=-price&page=2", headers=HTMX))
    assert _names_in_table(second) == ["Mug 01", "Mug 00"] and "<html" not in second
    assert f'href="{url}?q=mug&amp;sort=price"' in second  # a heading keeps the search


def test_the_shop_cards_count_products_and_orders(client, owner, make_shop, make_product):
    busy = make_shop(owner, name="Busy")
    make_shop(owner, name="Empty")
    for n in range(3):
        make_product(busy, name=f"Thing {n}")
    gone = make_product(busy, name="Deleted thing")
    post(client, f"/dashboard/products/{gone.id}/delete")
    home = text(client.get("/dashboard/"))
    assert 'aria-label="3 products in Busy">3 products</a>' in home
    assert 'aria-label="0 products in Empty">0 products</a>' in home
    assert "0 placed orders of Busy" in home
