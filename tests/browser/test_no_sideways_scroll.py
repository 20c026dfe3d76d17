"""No page scrolls sideways on a 390 px phone: every HTML GET route of the app (read from its URL map, so a new
page is checked without anyone adding it here), as an owner with demo-like data (long names and unbroken words,
images, nested categories, orders, a long breadcrumb) and as an anonymous visitor, with JavaScript on.

A route is left out only if it answers something other than a page (``NOT_PAGES``); a route whose URL needs
values the data does not give (``values``) fails the test by name, and so does a "page" that is not HTML.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.flows import log_in, unique
from tests.conftest import DEFAULT_PASSWORD
from tests.live import LiveServer
from tests.media.photos import camera_photo, photo

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Answers that are not pages: the JSON API (and its docs, the API's own), robots.txt, the favicon and the sitemaps,
# files, health checks, the CSV downloads.
NOT_PAGES_BLUEPRINTS = {"api", "seo"}
NOT_PAGES = {"static", "media.serve", "health.healthz", "health.readyz", "orders_manage.export_csv",
             "products_manage.export_csv", "products_manage.export_all_csv"}
# The elements sticking out past the right edge, to say what to fix (the deepest ones: their parents only follow).
_OFFENDERS = """() => {
  const edge = window.innerWidth;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  const out = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > edge + 0.5);
  return out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 4)
    .map((e) => `${name(e)} (right ${Math.round(e.getBoundingClientRect().right)} px)`);
}"""
# One word longer than a phone is wide, as in a German product name or a pasted address.
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitänsrucksack"


@dataclass(frozen=True)
class Data:
    email: str
    values: dict[str, dict[str, Any]]  # endpoint -> its URL's values


@pytest.fixture(scope="module")
def data(live_server: LiveServer) -> Data:
    """An owner's shop with long-named products (images, a category two deep), an order they placed at it
    (they see it as the buyer and as the shop) and a cart ready for checkout, made through the services."""
    from shopapp.auth import services as auth
    from shopapp.categories import services as categories
    from shopapp.extensions import db
    from shopapp.media import services as media
    from shopapp.orders import carts
    from shopapp.orders import services as orders
    from shopapp.products import imports
    from shopapp.products import services as products
    from shopapp.shops import services as shops

    name = unique("Wide Owner")
    email = f"{name.replace(' ', '.').lower()}@example.com"
    with live_server.app.app_context():
        owner = auth.register(email, DEFAULT_PASSWORD, name)
        db.session.flush()
        shop = shops.create_shop(
            owner,
            {
                "name": unique(
                    "Northwind Outfitters & Sons: Hand-Stitched Leather, Waxed Canvas and Mountain Supplies"
                ),
                "description": f"Hard-wearing gear. {LONG_WORD} and more. " * 5,
                "address": f"12 {LONG_WORD}strasse, Hinterobermitteldorf-am-See",
                "phone": "+44 20 7946 0000",
            },
        )
        top = categories.create_category(owner, {"name": unique("Outdoors, Mountaineering and Expedition Equipment")})
        sub = categories.create_category(owner, {"name": unique(f"Waterproof {LONG_WORD}"), "parent_id": top.id})
        fields = {"shop_id": shop.id, "category_id": sub.id, "stock": 50, "description": f"{LONG_WORD}. " * 20}
        product = products.create_product(
            owner, {**fields, "name": unique(f"{LONG_WORD} Extra-Wasserdicht, 45 Litres"), "price": Decimal("1249.00")}
        )
        for other in range(3):
            products.create_product(
                owner, {**fields, "name": unique(f"Expedition {LONG_WORD}"), "price": Decimal(f"{other + 9}.50")}
            )
        pictures = (camera_photo(), photo("boats.jpg"))
        images = media.add_images(
            owner, product.id, [media.NewImage(io.BytesIO(p.read_bytes()), f"A {LONG_WORD}") for p in pictures]
        )
        holder = carts.holder_for(owner, None)
        carts.add(holder, product.id, 2)
        address = {
            "name": name,
            "line1": f"1 {LONG_WORD}weg",
            "line2": "",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "de",
        }
        [order] = orders.checkout(owner, {"shipping_address": address, "note": f"Ring twice. {LONG_WORD}"}).orders
        carts.add(holder, product.id, 1)  # for the checkout page
        gone = shops.create_shop(owner, {"name": unique(f"Closed {LONG_WORD} Shop")})
        shops.delete_shop(owner, gone.id)
        wrong = f"sku,name,price,stock,category\r\n{LONG_WORD * 2},,{LONG_WORD},x,{LONG_WORD} > {LONG_WORD}\r\n"
        checked = imports.start_import(owner, shop.id, wrong.encode())
        imports.dry_run(owner, checked.id)  # a report with a table of long problems
        db.session.commit()
        values: dict[str, dict[str, Any]] = {
            "catalog.product": {"ident": product.id, "slug": product.slug},
            "catalog.shop": {"ident": shop.id, "slug": shop.slug},
            "catalog.category": {"ident": sub.id, "slug": sub.slug},
            "orders.my_order": {"order_id": order.id},
            "orders.confirmation": {"checkout_id": order.checkout_id},
            "orders_manage.order": {"order_id": order.id},
            "product_imports.report": {"import_id": checked.id},
            "product_imports.status": {"import_id": checked.id},
            "categories_manage.edit": {"category_id": sub.id},
            "media_manage.delete": {"product_id": product.id, "image_id": images[0].id},
            **{
                endpoint: {"product_id": product.id}
                for endpoint in (
                    "products_manage.edit",
                    "media_manage.index",
                    "products_manage.quick_edit",
                    "products_manage.row",
                )
            },
            **{
                endpoint: {"shop_id": shop.id}
                for endpoint in (
                    "shops_manage.edit",
                    "orders_manage.index",
                    "products_manage.index",
                    "products_manage.create",
                    "product_imports.upload",
                )
            },
        }
        return Data(email, values)


def page_urls(live_server: LiveServer, data: Data) -> tuple[list[str], list[str]]:
    """Every HTML GET route's URL (each rule once, ``/products/<id>`` and ``/products/<id>-<slug>`` both), the
    error page; and the routes that cannot be visited for want of values."""
    urls, missing = ["/no-such-page"], []
    for rule in sorted(live_server.app.url_map.iter_rules(), key=lambda rule: rule.rule):
        blueprint = rule.endpoint.rpartition(".")[0]
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES or blueprint in NOT_PAGES_BLUEPRINTS:
            continue
        given = data.values.get(rule.endpoint, {})
        if not rule.arguments <= given.keys():
            missing.append(f"{rule.endpoint} {rule.rule}: no value for {sorted(rule.arguments - given.keys())}")
            continue
        built = rule.build({key: given[key] for key in rule.arguments}, append_unknown=False)
        assert built is not None, rule
        urls.append(built[1])
    assert len(set(urls)) == len(urls), urls  # each rule's own URL
    return urls, missing


def sideways(page: Page, urls: list[str]) -> Iterator[str]:
    """Each URL that scrolls sideways (or is not an HTML page), with how wide it is and what sticks out."""
    for url in urls:
        response = page.goto(url)
        assert response is not None, url
        if "text/html" not in response.headers.get("content-type", ""):
            yield f"{url}: not an HTML page ({response.headers.get('content-type')}); add it to NOT_PAGES"
            continue
        page.wait_for_load_state("load")
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > inner:
            culprits = ", ".join(page.evaluate(_OFFENDERS)) or "no element: a pseudo-element or a positioned box"
            yield f"{url} (shown {page.url}) is {width} px wide at {inner}: {culprits}"


@pytest.mark.parametrize("reader", ["owner", "anonymous"])
def test_no_page_scrolls_sideways_at_390_px(
    browser: Browser, base_url: str, live_server: LiveServer, data: Data, reader: str
) -> None:
    urls, missing = page_urls(live_server, data)
    assert not missing, "routes the crawl cannot fill in (add their values to the data):\n" + "\n".join(missing)
    context = browser.new_context(base_url=base_url, viewport=PHONE)
    try:
        page = context.new_page()
        if reader == "owner":
            log_in(page, data.email)
        offenders = list(sideways(page, urls))
    finally:
        context.close()
    assert len(urls) > 25
    assert not offenders, f"{len(offenders)} of {len(urls)} pages scroll sideways at 390 px:\n" + "\n".join(offenders)
