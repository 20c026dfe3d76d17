"""The product page (gallery, the shop's contact details, related products) and what every public page tells
search engines: a canonical link and a meta description, Open Graph tags and schema.org JSON-LD (a Product, and a
BreadcrumbList wherever a breadcrumb shows), kept right through the shared cache and allowed by the CSP."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.media.files import webp
from tests.pages.conftest import HTMX, Auth, text

_NONCE = re.compile(r"'nonce-([^']+)'")


class Head(HTMLParser):
    """What a page tells machines: its meta tags, links, JSON-LD blocks (with their nonces), and the main image and
    thumbnail links of the gallery."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: dict[str, list[str]] = {}
        self.json_ld: list[dict[str, Any]] = []
        self.json_ld_nonces: list[str | None] = []
        self.images: list[dict[str, str | None]] = []
        self.thumbs: list[dict[str, str | None]] = []
        self._in_ld = False
        self._in_thumbs = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (key := values.get("name") or values.get("property")):
            self.meta[key] = values.get("content") or ""
        elif tag == "link" and values.get("rel"):
            self.links.setdefault(values["rel"] or "", []).append(values.get("href") or "")
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_ld = True
            self.json_ld_nonces.append(values.get("nonce"))
        elif tag == "img" and "gallery-main" in (values.get("class") or ""):
            self.images.append(values)
        elif tag == "ul" and values.get("class") == "thumbs":
            self._in_thumbs = True
        elif tag == "a" and self._in_thumbs:
            self.thumbs.append(values)

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = self._in_ld and tag != "script"
        self._in_thumbs = self._in_thumbs and tag != "ul"

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(json.loads(data))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [block for block in self.json_ld if block.get("@type") == kind]

    @property
    def canonical(self) -> str | None:
        found = self.links.get("canonical", [])
        assert len(found) <= 1, found
        return found[0] if found else None


def head(response: TestResponse) -> Head:
    assert response.status_code == 200, response.status_code
    return Head(text(response))


@pytest.fixture
def store(make_user, make_shop, make_category, make_product, make_image):  # type: ignore[no-untyped-def]
    """A lamp with three images (the second portrait) in "Lighting" > "Lamps", beside two other lamps, one hidden
    lamp and a product of another category; its shop publishes a phone number and an address, no mail address."""
    owner = make_user()
    lighting = make_category(owner, name="Lighting")
    lamps = make_category(owner, name="Lamps", parent_id=lighting.id, description="Lamps for every  room.")
    shop = make_shop(owner, name="Lamp Corner", phone="+44 20 7946 0000", address="1 High Street\nLondon")
    lamp = make_product(
        shop, name="Brass Lamp", price=Decimal("40.00"), category_id=lamps.id, description="Hand made in brass."
    )
    images = [
        make_image(lamp, webp((400, 300)), alt="The lamp, lit"),
        make_image(lamp, webp((300, 400)), alt="The lamp from above"),
        make_image(lamp, webp((300, 300))),
    ]
    others = {
        "desk": make_product(shop, name="Desk Lamp", category_id=lamps.id, stock=0),
        "floor": make_product(shop, name="Floor Lamp", category_id=lamps.id),
        "hidden": make_product(shop, name="Secret Lamp", category_id=lamps.id, is_active=False),
        "shade": make_product(shop, name="Lamp Shade", category_id=lighting.id),
    }
    rows = {"owner": owner, "shop": shop, "lighting": lighting, "lamps": lamps, "lamp": lamp, "images": images}
    return {**rows, **others}


def lamp_url(store: dict[str, Any]) -> str:
    return f"/products/{store['lamp'].id}-brass-lamp"


# --- Gallery -------------------------------------------------------------------------------------------------------


def test_the_first_image_shows_large_with_high_priority_and_every_image_has_a_thumbnail(client, store):
    page = head(client.get(lamp_url(store)))
    first, second, third = store["images"]
    (main,) = page.images
    assert main["alt"] == "The lamp, lit" and main["fetchpriority"] == "high" and main.get("loading") is None
    assert (main["width"], main["height"]) == ("400", "300")
    assert [t["href"] for t in page.thumbs] == [f"{lamp_url(store)}?image={i.id}" for i in (first, second, third)]
    assert [t["hx-get"] for t in page.thumbs] == [t["href"] for t in page.thumbs]
    assert [t.get("aria-current") for t in page.thumbs] == ["true", None, None]
    body = text(client.get(lamp_url(store)))
    assert "Show image 2 of 3: The lamp from above</span>" in body
    assert "Show image 3 of 3: Brass Lamp</span>" in body  # the alt text by default


def test_a_thumbnails_link_shows_its_image_large(client, store):
    second = store["images"][1]
    page = head(client.get(f"{lamp_url(store)}?image={second.id}"))
    (main,) = page.images
    assert main["alt"] == "The lamp from above" and (main["width"], main["height"]) == ("300", "400")
    assert [t.get("aria-current") for t in page.thumbs] == [None, "true", None]


@pytest.mark.parametrize("chosen", ["999999", "abc", "", "-1"])
def test_an_image_that_is_not_the_products_shows_the_first(client, store, make_product, make_image, chosen):
    someone_elses = make_image(make_product(name="Other"))
    for value in (chosen, str(someone_elses.id)):
        (main,) = head(client.get(f"{lamp_url(store)}?image={value}")).images
        assert main["alt"] == "The lamp, lit"


def test_htmx_gets_only_the_gallery_with_the_chosen_image(client, store):
    second = store["images"][1]
    response = client.get(f"{lamp_url(store)}?image={second.id}", headers=HTMX)
    body = text(response)
    assert "<html" not in body and body.lstrip().startswith('<div class="product-gallery" id="product-gallery">')
    assert "HX-Request" in response.headers["Vary"]
    assert Head(body).images[0]["alt"] == "The lamp from above"
    # and the full page of the same address is still a full page (the cache keeps the two apart)
    assert "<html" in text(client.get(f"{lamp_url(store)}?image={second.id}"))


def test_a_product_with_one_image_has_no_thumbnails_and_one_without_images_a_placeholder(
    client, make_product, make_image
):
    single = make_product(name="Single")
    make_image(single, alt="Alone")
    page = head(client.get(f"/products/{single.id}-single"))
    assert len(page.images) == 1 and page.thumbs == []
    bare = make_product(name="Bare")
    body = text(client.get(f"/products/{bare.id}-bare"))
    assert 'class="product-thumb large"' in body and "product-gallery" not in body
    # an htmx request for it (no thumbnail asks, but any client may) gets the placeholder, not a 500
    fragment = text(client.get(f"/products/{bare.id}-bare", headers=HTMX))
    assert fragment.strip() == '<div class="product-thumb large" aria-hidden="true"><span>B</span></div>'


# --- The shop's contact details and related products ------------------------------------------------------------


def test_the_shops_published_contact_details_show_linked(client, store):
    body = text(client.get(lamp_url(store)))
    contact = body[body.index('<address class="shop-contact') : body.index("</address>")]
    assert '<a href="tel:+442079460000">+44 20 7946 0000</a>' in contact
    assert '<span class="shop-address">1 High Street\nLondon</span>' in contact
    assert "mailto:" not in contact  # the owner left the mail address empty


def test_a_shop_without_contact_details_shows_none(client, make_shop, make_product):
    quiet = make_product(make_shop(name="Quiet Shop"), name="Quiet Mug")
    assert "<address" not in text(client.get(f"/products/{quiet.id}-quiet-mug"))


def test_the_shops_mail_address_is_a_mailto_link_on_the_product_and_shop_pages(client, make_shop, make_product):
    shop = make_shop(name="Mail Shop", email="hello@mail.example")
    mug = make_product(shop, name="Mail Mug")
    for path in (f"/products/{mug.id}-mail-mug", f"/shops/{shop.id}-mail-shop"):
        assert '<a href="mailto:hello@mail.example">hello@mail.example</a>' in text(client.get(path))


def test_related_products_are_other_visible_ones_of_the_same_category(client, store):
    body = text(client.get(lamp_url(store)))
    related = body[body.index('<section class="related"') :]
    assert "More in Lamps" in related
    assert "Floor Lamp" in related and "Desk Lamp" in related  # out of stock, still for sale
    assert "Brass Lamp" not in related and "Secret Lamp" not in related and "Lamp Shade" not in related
    assert related.index("Floor Lamp") < related.index("Desk Lamp")  # newest first


def test_related_products_are_at_most_four_and_none_without_a_category(client, store, make_product):
    for n in range(5):
        make_product(store["shop"], name=f"Extra Lamp {n}", category_id=store["lamps"].id)
    related = text(client.get(lamp_url(store))).split('<section class="related"')[1]
    assert related.count('<article class="product-card">') == 4
    loner = make_product(store["shop"], name="Loner")
    assert '<section class="related"' not in text(client.get(f"/products/{loner.id}-loner"))


def test_the_product_page_reads_products_twice_whatever_the_related_count(client, store, make_product, queries):
    """The product with its relations, then the related products with theirs: no query per related product."""
    counts = []
    for n in range(2):
        make_product(store["shop"], name=f"More Lamp {n}", category_id=store["lamps"].id)
        queries.clear()
        assert client.get(lamp_url(store)).status_code == 200  # a write ended the copies: built afresh
        counts.append(len(queries.reading("products")))
    assert counts == [2, 2], queries.sql


def test_the_cached_product_page_shows_a_new_related_product_and_a_changed_contact(
    client, store, make_product, app, queries
):
    from shopapp.extensions import db
    from shopapp.shops import services as shops

    client.get(lamp_url(store))
    queries.clear()
    client.get(lamp_url(store))
    assert queries == []  # a copy
    make_product(store["shop"], name="Reading Lamp", category_id=store["lamps"].id)
    assert "Reading Lamp" in text(client.get(lamp_url(store)))
    with app.app_context():
        shops.update_shop(store["owner"], store["shop"].id, {"phone": "+33 1 23 45 67 89"})
        db.session.commit()
    assert "tel:+33123456789" in text(client.get(lamp_url(store)))


# --- The head: canonical link and meta description on every public page -------------------------------------------

BASE = "http://localhost"


def public_pages(store: dict[str, Any]) -> dict[str, str]:
    """Each public page (as requested, with stray query arguments) and its canonical address."""
    lamp, shop, lamps = store["lamp"], store["shop"], store["lamps"]
    image = store["images"][1].id
    return {
        "/": f"{BASE}/",
        "/products?utm_source=mail": f"{BASE}/",
        "/?page=2": f"{BASE}/?page=2",
        "/?q=lamp&page=2": f"{BASE}/",
        f"{lamp_url(store)}?image={image}&utm_source=mail": f"{BASE}/products/{lamp.id}-brass-lamp",
        "/shops?q=lamp": f"{BASE}/shops",
        f"/shops/{shop.id}-lamp-corner?sort=name": f"{BASE}/shops/{shop.id}-lamp-corner",
        f"/categories/{lamps.id}-lamps?in_stock=1": f"{BASE}/categories/{lamps.id}-lamps",
        "/login?next=/cart": f"{BASE}/login",
        "/register": f"{BASE}/register",
        "/cart": f"{BASE}/cart",
    }


def test_every_public_page_has_its_canonical_link_and_a_meta_description(client, store):
    descriptions = set()
    for path, canonical in public_pages(store).items():
        page = head(client.get(path))
        assert page.canonical == canonical, path
        description = page.meta.get("description", "")
        assert 20 <= len(description) <= 160, (path, description)
        descriptions.add(description)
    assert len(descriptions) >= 6  # the catalog, a product, the shops, a shop, a category: each its own


def test_a_pages_description_is_its_own_text_collapsed_and_cut_at_a_word(client, store, make_product):
    assert head(client.get(f"/categories/{store['lamps'].id}-lamps")).meta["description"] == "Lamps for every room."
    product = head(client.get(lamp_url(store))).meta["description"]
    assert product == "Brass Lamp, €40.00 from Lamp Corner. Hand made in brass."
    long = make_product(store["shop"], name="Long", description="word " * 100)
    described = head(client.get(f"/products/{long.id}-long")).meta["description"]
    assert described.startswith("Long, €9.99 from Lamp Corner. word word") and described.endswith(" word...")
    assert len(described) <= 160


def test_error_pages_have_no_canonical_link(client):
    response = client.get("/products/999999")
    assert response.status_code == 404
    assert Head(text(response)).canonical is None


def test_the_canonical_address_follows_the_requests_host_and_the_cache_keeps_hosts_apart(client, store):
    """A copy made for one Host header is never served for another (the cache's key holds the host), so a
    forged Host cannot put its address into the pages other visitors get."""
    path = lamp_url(store)
    forged = head(client.get(path, headers={"Host": "evil.example"}))
    assert forged.canonical == f"http://evil.example{path}"
    for _ in range(2):  # the miss, then the copy
        page = head(client.get(path))
        assert page.canonical == f"{BASE}{path}"
        assert all("evil.example" not in url for url in page.of_type("Product")[0]["image"])


# --- Product pages: Open Graph and schema.org Product; BreadcrumbList where a breadcrumb shows ----------------------


def test_the_product_page_has_open_graph_tags(client, store):
    page = head(client.get(lamp_url(store)))
    first = store["images"][0]
    meta = page.meta
    assert meta["og:type"] == "product" and meta["og:title"] == "Brass Lamp" and meta["og:site_name"] == "ShopApp"
    assert meta["og:url"] == page.canonical
    assert meta["og:description"] == "Brass Lamp, €40.00 from Lamp Corner. Hand made in brass."
    assert re.fullmatch(rf"{BASE}/media/{first.storage_key[:2]}/{first.storage_key}-large\.webp", meta["og:image"])
    assert (meta["og:image:width"], meta["og:image:height"]) == ("400", "300")
    assert meta["og:image:alt"] == "The lamp, lit"
    assert (meta["product:price:amount"], meta["product:price:currency"]) == ("40.00", "EUR")


def test_the_product_page_has_schema_org_product_json_ld(client, store):
    page = head(client.get(lamp_url(store)))
    (product,) = page.of_type("Product")
    assert product["@context"] == "https://schema.org"
    assert product["name"] == "Brass Lamp" and product["description"] == "Hand made in brass."
    assert product["url"] == page.canonical and product["category"] == "Lamps"
    assert product["image"] == [f"{BASE}/media/{i.storage_key[:2]}/{i.storage_key}-large.webp" for i in store["images"]]
    assert product["offers"] == {
        "@type": "Offer",
        "url": page.canonical,
        "price": "40.00",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
        "seller": {"@type": "Organization", "name": "Lamp Corner"},
    }
    desk = head(client.get(f"/products/{store['desk'].id}-desk-lamp")).of_type("Product")[0]
    assert desk["offers"]["availability"] == "https://schema.org/OutOfStock" and "image" not in desk


def test_a_breadcrumb_list_goes_with_every_breadcrumb(client, store):
    lamp, shop, lighting, lamps = store["lamp"], store["shop"], store["lighting"], store["lamps"]
    trails = {
        lamp_url(store): [
            ("Catalog", f"{BASE}/"),
            ("Lighting", f"{BASE}/categories/{lighting.id}-lighting"),
            ("Lamps", f"{BASE}/categories/{lamps.id}-lamps"),
            ("Brass Lamp", f"{BASE}/products/{lamp.id}-brass-lamp"),
        ],
        f"/categories/{lamps.id}-lamps": [
            ("Catalog", f"{BASE}/"),
            ("Lighting", f"{BASE}/categories/{lighting.id}-lighting"),
            ("Lamps", f"{BASE}/categories/{lamps.id}-lamps"),
        ],
        f"/shops/{shop.id}-lamp-corner": [
            ("Shops", f"{BASE}/shops"),
            ("Lamp Corner", f"{BASE}/shops/{shop.id}-lamp-corner"),
        ],
    }
    for path, trail in trails.items():
        body = text(client.get(path))
        (crumbs,) = Head(body).of_type("BreadcrumbList")
        items = crumbs["itemListElement"]
        assert [(i["position"], i["name"], i["item"]) for i in items] == [(n, *step) for n, step in enumerate(trail, 1)]
        start = body.index('<nav aria-label="breadcrumb">')
        nav = body[start : body.index("</nav>", start)]
        for name, url in trail[:-1]:
            assert f'<a href="{url.removeprefix(BASE)}"' in nav and name in nav, path
    # pages with no breadcrumb have none
    for path in ("/", "/shops"):
        assert Head(text(client.get(path))).json_ld == []


def test_json_ld_carries_the_pages_nonce_on_a_fresh_page_and_on_a_copy(client, store, queries):
    """The CSP allows no inline script without the nonce; the JSON-LD blocks carry it (a data block is not run,
    but a stricter browser or policy still finds it allowed), and a cached copy gets each request's own."""
    seen = []
    for _ in range(2):
        queries.clear()
        response = client.get(lamp_url(store))
        nonce = _NONCE.search(response.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
        page = Head(text(response))
        assert len(page.json_ld) == 2 and page.json_ld_nonces == [nonce, nonce]
        seen.append(nonce)
    assert queries == []  # the second answer was the copy
    assert seen[0] != seen[1]


def test_the_structured_data_and_head_are_the_same_for_everyone(client: FlaskClient, store, make_user):
    """Nothing personal goes in: a signed-in customer and anonymous readers, served the one shared copy (each with
    their own header), read the same head and JSON-LD."""
    path = lamp_url(store)

    def machine_parts() -> tuple[Any, ...]:
        page = head(client.get(path))
        meta = {k: v for k, v in page.meta.items() if k != "htmx-config"}
        return page.canonical, meta, page.json_ld

    anonymous = machine_parts()
    assert machine_parts() == anonymous  # the copy
    customer = make_user(email="carla@example.com", name="Carla Customer")
    Auth(client).login(customer)
    body = text(client.get(path))
    assert "Carla" not in body.split("</head>")[0] and "carla@example.com" not in body.split("</head>")[0]
    assert machine_parts() == anonymous
    Auth(client).logout()
    assert machine_parts() == anonymous
