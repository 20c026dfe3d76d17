"""robots.txt, the favicon and the sitemap (shopapp/seo/): what crawlers and browsers ask of every site."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime

import pytest

from shopapp.categories import services as categories
from shopapp.extensions import db
from shopapp.seo.sitemap import NAMESPACE
from tests.pages.conftest import text

NS = {"sm": NAMESPACE}


def parse(document: bytes) -> ET.Element:
    return ET.fromstring(document)  # noqa: S314  the app's own answers


def test_robots_keeps_crawlers_out_of_private_pages_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert text(response).splitlines() == [
        "User-agent: *",
        "Disallow: /dashboard/",
        "Disallow: /account",
        "Disallow: /cart",
        "Disallow: /checkout",
        "Disallow: /api/",
        "Sitemap: http://localhost/sitemap.xml",
    ]
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    behind_proxy = client.get("/robots.txt", base_url="https://shop.example.com")
    assert text(behind_proxy).endswith("Sitemap: https://shop.example.com/sitemap.xml\n")


def test_every_page_links_the_favicon_and_favicon_ico_moves_there(client):
    page = text(client.get("/"))
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301 and moved.headers["Location"] == "/static/img/favicon.svg"
    icon = client.get("/static/img/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert parse(icon.get_data()).tag == "{http://www.w3.org/2000/svg}svg"


def _urls(client, path: str) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    """The sitemap at ``path`` as {address: lastmod}, after checking it is a urlset of the protocol."""
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/xml", text(response)
    root = parse(response.get_data())
    assert root.tag == f"{{{NAMESPACE}}}urlset"
    entries = [(url.findtext("sm:loc", namespaces=NS), url.findtext("sm:lastmod", namespaces=NS)) for url in root]
    assert len(entries) == len({loc for loc, _ in entries}), "an address listed twice"
    return dict(entries)  # type: ignore[arg-type]


@pytest.fixture
def store(app, make_user, make_shop, make_product, make_hidden_twins):  # type: ignore[no-untyped-def]
    owner = make_user()
    shop = make_shop(owner=owner, name="Lamp & Co")
    with app.app_context():
        category = categories.create_category(owner, {"name": "Lights <bright>"})
        db.session.commit()
        category_id, category_slug = category.id, category.slug
    product = make_product(shop=shop, name="Brass Lamp", category_id=category_id)
    make_hidden_twins("Visible Twin", "Inactive Twin", "Deleted Twin", "Closed Shop Twin", "Gone Shop Twin")
    return shop, product, (category_id, category_slug)


def _expected(app, store) -> set[str]:  # type: ignore[no-untyped-def]
    """Every address the sitemap must list: computed from the catalog's own rows."""
    from sqlalchemy import select

    from shopapp.catalog.query import catalog_products
    from shopapp.categories.models import Category
    from shopapp.shops.services import live_shops

    with app.app_context():
        products = db.session.scalars(catalog_products()).all()
        shops = db.session.scalars(live_shops()).all()
        cats = db.session.scalars(select(Category)).all()
        return (
            {"http://localhost/", "http://localhost/shops"}
            | {f"http://localhost/products/{p.id}-{p.slug}" for p in products}
            | {f"http://localhost/shops/{s.id}-{s.slug}" for s in shops}
            | {f"http://localhost/categories/{c.id}-{c.slug}" for c in cats}
        )


def test_the_sitemap_lists_what_customers_can_see_with_lastmod(app, client, store):
    shop, product, (category_id, category_slug) = store
    urls = _urls(client, "/sitemap.xml")
    product_url = f"http://localhost/products/{product.id}-brass-lamp"
    assert datetime.fromisoformat(urls[product_url]) == product.updated_at.replace(microsecond=0)  # type: ignore[arg-type]
    assert urls[f"http://localhost/shops/{shop.id}-lamp-co"] is not None
    assert urls[f"http://localhost/categories/{category_id}-{category_slug}"] is not None
    assert urls["http://localhost/"] is None and "http://localhost/shops" in urls
    listed = " ".join(urls)
    assert "visible-twin" in listed
    for hidden in ("inactive-twin", "deleted-twin", "closed-shop-twin", "gone-shop-twin"):
        assert hidden not in listed
    assert set(urls) == _expected(app, store)
    for url in urls:  # each is the page's canonical address: no redirect
        assert client.get(url.removeprefix("http://localhost")).status_code == 200, url


def test_the_sitemap_escapes_and_follows_the_host(client, store):
    response = client.get("/sitemap.xml", base_url="https://shop.example.com")
    assert b"https://shop.example.com/products/" in response.get_data()
    assert b"http://localhost" not in response.get_data()
    # Addresses are XML text: a slug never holds markup, but the document must parse whatever the host names.
    parse(response.get_data())


@pytest.mark.parametrize("per_file", [3, 4])
def test_past_the_limit_the_sitemap_is_an_index_of_files_that_together_list_everything(
    make_app, app_config, store, per_file
):  # type: ignore[no-untyped-def]
    app = make_app({**app_config, "SITEMAP_URLS_PER_FILE": per_file})
    client = app.test_client()
    index = client.get("/sitemap.xml")
    root = parse(index.get_data())
    assert root.tag == f"{{{NAMESPACE}}}sitemapindex", text(index)
    files = [entry.findtext("sm:loc", namespaces=NS) for entry in root]
    assert files[0] == "http://localhost/sitemaps/pages-1.xml"
    assert all(f.startswith("http://localhost/sitemaps/") for f in files)  # type: ignore[union-attr]
    seen: Counter[str] = Counter()
    for location in files:
        urls = _urls(client, location.removeprefix("http://localhost"))  # type: ignore[union-attr]
        assert 0 < len(urls) <= per_file
        seen.update(list(urls))
    assert max(seen.values()) == 1, "an address in two files"
    assert set(seen) == _expected(app, store)
    assert client.get("/sitemap.xml", headers={"If-None-Match": index.headers["ETag"]}).status_code == 304
    assert client.get("/sitemaps/products-999.xml").status_code == 404
    assert client.get("/sitemaps/pages-2.xml").status_code == 404
    assert client.get("/sitemaps/orders-1.xml").status_code == 404


def test_a_sitemap_answers_304_until_the_catalog_changes(app, client, make_product, store):
    shop, _product, _ = store
    first = client.get("/sitemap.xml")
    assert b"brass-lamp" in first.get_data()
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/sitemap.xml", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/sitemap.xml", headers={"If-Modified-Since": modified}).status_code == 304
    other_host = client.get("/sitemap.xml", headers={"If-None-Match": tag}, base_url="https://shop.example.com")
    assert other_host.status_code == 200 and b"https://shop.example.com/" in other_host.get_data()
    make_product(shop=shop, name="Another Lamp")
    changed = client.get("/sitemap.xml", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and b"another-lamp" in changed.get_data()


def test_a_sitemap_body_never_read_holds_no_context(app, client, store):
    """A HEAD, or a crawler that hangs up: the streamed body is not iterated, so no query runs and nothing is left
    pushed (the next request would share it)."""
    assert client.head("/sitemap.xml").status_code == 200
    unread = client.get("/sitemaps/products-1.xml")
    assert unread.status_code == 200
    assert b"brass-lamp" in client.get("/sitemap.xml").get_data()
    unread.close()
