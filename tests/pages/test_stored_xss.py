"""Stored XSS: markup, event handlers, ``javascript:`` links and htmx attributes typed into names and
descriptions come back as text, on full pages, in htmx fragments and in the API's JSON.

htmx widens the usual XSS surface: an injected ``hx-get``/``hx-on`` attribute runs without any
``<script>``, and the CSP does not stop it (htmx itself is an allowed script). So the pages are
parsed and every element checked, rather than grepping for one escaped string.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from tests.api.conftest import Api
from tests.pages.conftest import HTMX, text

MARK = "pwn"  # every payload carries it, so whatever it turns into can be found
PAYLOADS = {
    "script": f"<script>{MARK}()</script>",
    "attribute break-out": f'"><img src=x onerror={MARK}()>',
    "javascript link": f"javascript:{MARK}()",
    "htmx element": f'<a hx-get="/{MARK}" hx-trigger="load" hx-on:click="{MARK}()">x</a>',
    "htmx attribute break-out": f"' hx-get=/{MARK} hx-trigger=load hx-on::load={MARK}() x='",
}
# Attributes whose value is shown as text or sent back by a form, never followed or run.
TEXT_ATTRIBUTES = {"value", "alt", "title", "aria-label", "placeholder", "content", "data-name"}
# Links to a row carry its slugified name: lowercase words and dashes, harmless in a URL (absolute in the
# canonical link and Open Graph tags).
SLUG_LINK = re.compile(r"(http://localhost)?/(products|shops|categories)/\d+-[a-z0-9-]+")


class InjectionFinder(HTMLParser):
    """Collects what the browser would treat as code or as a link that came from a payload."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_script = self.in_data_block = False
        self.text_seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag in ("script", "style")
        # Structured data (JSON-LD) is a script the browser never runs: its text may carry a payload, as JSON that
        # cannot end the element (no "<" at all) and parses.
        self.in_data_block = tag == "script" and ("type", "application/ld+json") in attrs
        for name, value in attrs:
            value = value or ""
            handler = name.startswith(("on", "hx-on", "data-hx-on"))
            followed = MARK in value and name not in TEXT_ATTRIBUTES and not SLUG_LINK.fullmatch(value)
            if handler or followed:
                self.found.append(f"<{tag} {name}={value!r}>")
            elif MARK in value:
                self.text_seen = True

    def handle_endtag(self, tag: str) -> None:
        self.in_script = self.in_data_block = False

    def handle_data(self, data: str) -> None:
        if MARK in data:
            if self.in_data_block and not _is_json_data(data):
                self.found.append(f"structured data {data!r}")
            elif self.in_script and not self.in_data_block:
                self.found.append(f"script body {data!r}")
            self.text_seen = True


def _is_json_data(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return "<" not in text


def assert_inert(html: str, where: str) -> None:
    finder = InjectionFinder()
    finder.feed(html)
    assert not finder.found, f"{where}: {finder.found}"
    assert finder.text_seen, f"{where}: the payload is not shown at all, so nothing was tested"


@pytest.fixture(params=sorted(PAYLOADS))
def payload(request) -> str:  # type: ignore[no-untyped-def]
    return PAYLOADS[request.param]


@pytest.fixture
def planted(owner, payload, make_shop, make_product, make_category):  # type: ignore[no-untyped-def]
    """The signed-in owner's shop, category and product, each named and described with the payload."""
    category = make_category(owner, name=f"Cat {payload}")
    shop = make_shop(owner, name=f"Shop {payload}", description=payload)
    product = make_product(shop, name=f"Mug {payload}", description=payload, category_id=category.id)
    return {"shop": shop, "product": product, "category": category}


def test_payloads_render_inert_on_full_pages(client, planted):
    shop, product, category = planted["shop"], planted["product"], planted["category"]
    pages = [
        "/",
        "/products?q=Mug",
        f"/products/{product.id}",
        "/shops",
        f"/shops/{shop.id}",
        f"/categories/{category.id}",
        "/dashboard/",
        f"/dashboard/shops/{shop.id}/products",
        f"/dashboard/shops/{shop.id}/edit",
        f"/dashboard/products/{product.id}/edit",
        "/dashboard/categories/",
        f"/dashboard/categories/{category.id}/edit",
        f"/dashboard/products/{product.id}/images",
    ]
    for page in pages:
        response = client.get(page, follow_redirects=True)
        assert response.status_code == 200, page
        assert_inert(text(response), page)


def test_payloads_render_inert_in_htmx_fragments(client, planted):
    shop, product = planted["shop"], planted["product"]
    fragments = [
        "/products?q=Mug",
        "/shops?q=Shop",
        f"/categories/{planted['category'].id}",
        f"/dashboard/shops/{shop.id}/products",
        f"/dashboard/products/{product.id}/row",
        f"/dashboard/products/{product.id}/quick",
    ]
    for fragment in fragments:
        response = client.get(fragment, headers=HTMX, follow_redirects=True)
        assert response.status_code == 200, fragment
        assert "<html" not in text(response), f"{fragment} answered a full page"
        assert_inert(text(response), fragment)


def test_payloads_are_plain_strings_in_the_api(client, planted, payload):
    api = Api(client)
    product = api.get(f"/products/{planted['product'].id}")
    assert product.mimetype == "application/json"
    body = product.get_json()
    assert body["name"] == f"Mug {payload}" and body["description"] == payload
    shop = api.get(f"/shops/{planted['shop'].id}").get_json()
    assert shop["name"] == f"Shop {payload}" and shop["description"] == payload
