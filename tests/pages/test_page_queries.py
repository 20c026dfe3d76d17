"""An owner's page reads the product it works on once per request, whoever checks ownership or locks it."""

from __future__ import annotations

import io
from decimal import Decimal

from tests.media import files
from tests.pages.conftest import HTMX, csrf_token, text


def _product_with_images(owner, make_shop, make_product, make_image, count: int = 2):  # type: ignore[no-untyped-def]
    product = make_product(make_shop(owner), name="Kettle", price=Decimal("20.00"), stock=2)
    images = [make_image(product, files.webp(size)) for size in ((300, 200), (200, 300))[:count]]
    return product, images


def test_the_quick_edit_reads_the_product_once(client, owner, make_shop, make_product, queries):
    product = make_product(make_shop(owner), name="Kettle", price=Decimal("20.00"), stock=2)
    token = csrf_token(client)
    url, p = f"/dashboard/products/{product.id}/quick", f"p{product.id}-"
    form = {"csrf_token": token, p + "price": "21.00", p + "stock": "3", p + "is_active": "y", p + "version": "1"}
    queries.clear()
    saved = client.post(url, data=form, headers=HTMX)
    assert saved.status_code == 200 and "21.00" in text(saved)
    assert len(queries.reading("products")) == 1


def test_moving_an_image_reads_the_product_once(client, owner, make_shop, make_product, make_image, queries):
    product, images = _product_with_images(owner, make_shop, make_product, make_image)
    url = f"/dashboard/products/{product.id}/images/{images[1].id}/move"
    token = csrf_token(client)
    queries.clear()
    moved = client.post(url, data={"csrf_token": token, "position": "0"})
    assert moved.status_code == 302
    assert len(queries.reading("products")) == 1


def test_the_images_page_reads_the_product_once(client, owner, make_shop, make_product, make_image, queries):
    product, _images = _product_with_images(owner, make_shop, make_product, make_image)
    url = f"/dashboard/products/{product.id}/images"
    queries.clear()
    page = client.get(url)
    assert page.status_code == 200
    assert len(queries.reading("products")) == 1


def test_an_upload_reads_the_product_once(client, owner, make_shop, make_product, make_image, queries):
    product, _images = _product_with_images(owner, make_shop, make_product, make_image, count=1)
    url = f"/dashboard/products/{product.id}/images"
    data = {"csrf_token": csrf_token(client), "alt": "", "images": [(io.BytesIO(files.webp((200, 300))), "b.webp")]}
    queries.clear()
    done = client.post(url, data=data, headers=HTMX, content_type="multipart/form-data")
    assert done.status_code == 200
    assert len(queries.reading("products")) == 1


def test_the_cart_page_reads_the_cart_once(client, auth, make_user, make_world, make_product, queries):
    """The lines with their products, shops and images in one query; the header's count is their sum."""
    world = make_world(stock=5)
    plate = make_product(world.shop, name="Plate", price=Decimal("3.00"), stock=5)
    other = make_world(shop="B's shop", product="Pan", category=None, deleted=False, stock=5)
    auth.login(make_user(email="buyer@example.com"))
    token = csrf_token(client)
    for product in (world.product, plate, other.product):
        added = client.post("/cart/add", data={"csrf_token": token, "product_id": product.id, "quantity": 2})
        assert added.status_code == 302
    queries.clear()
    page = client.get("/cart")
    assert page.status_code == 200 and "Plate" in text(page) and "Pan" in text(page)
    assert len(queries.reading("cart_items")) == 1, queries.sql
    assert len(queries) <= 2, queries.sql  # the signed-in user, the cart


def test_the_products_table_reads_its_products_and_thumbnails_in_one_query(
    client, owner, make_shop, make_product, make_image, queries
):
    """Thumbnails ride on the page's query; more products (with images) do not add queries."""
    shop = make_shop(owner)

    def table_statements() -> tuple[int, int]:
        queries.clear()
        page = client.get(f"/dashboard/shops/{shop.id}/products?sort=-stock")
        assert page.status_code == 200
        return len(queries.reading("products")), len(queries)

    make_image(make_product(shop, name="Kettle"), files.webp((300, 200)))
    few = table_statements()
    for n in range(4):
        make_image(make_product(shop, name=f"Pot {n}", stock=n), files.webp((200, 300)))
    assert text(client.get(f"/dashboard/shops/{shop.id}/products")).count('<td class="thumb"><img') == 5
    assert table_statements() == few and few[0] == 1, queries.sql


def test_the_dashboard_counts_every_shops_products_and_orders_in_one_query_each(
    client, owner, make_shop, make_product, queries
):
    def home_statements() -> int:
        queries.clear()
        assert client.get("/dashboard/").status_code == 200
        return len(queries)

    make_product(make_shop(owner, name="One"))
    one = home_statements()
    for n in range(3):
        make_product(make_shop(owner, name=f"More {n}"))
    assert home_statements() == one, queries.sql
