"""The product page's gallery in Chromium: a thumbnail shows its image large (in place with JavaScript, by a plain
link without), a portrait photo leaves the name and the price in view on a phone, and the page's JSON-LD is there
and passes the CSP."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.flows import register_owner, unique
from tests.browser.test_pages_in_browser import _serious_violations
from tests.live import LiveServer
from tests.media.photos import camera_photo, photo

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# The alt texts of the product's images, in order: a portrait photo first, then two landscape ones.
ALTS = ("A forest, upright", "Boats in a harbour", "A green leaf")


@dataclass(frozen=True)
class Shown:
    url: str
    name: str
    image_ids: tuple[int, ...]


@pytest.fixture(scope="module")
def lamp(live_server: LiveServer) -> Shown:
    """A product with three real photos (made through the services, as the owner's uploads are), in a category
    with one other product, in a shop that publishes a phone number."""
    from shopapp.auth import services as auth
    from shopapp.categories import services as categories
    from shopapp.extensions import db
    from shopapp.media import services as media
    from shopapp.products import services as products
    from shopapp.shops import services as shops

    name = unique("Gallery Lamp")
    with live_server.app.app_context():
        owner = auth.register(f"{name.replace(' ', '.').lower()}@example.com", "correct horse battery", name)
        db.session.flush()
        shop = shops.create_shop(owner, {"name": unique("Gallery Shop"), "phone": "+44 20 7946 0000"})
        category = categories.create_category(owner, {"name": unique("Gallery Lights")})
        fields = {"shop_id": shop.id, "category_id": category.id, "stock": 3}
        product = products.create_product(owner, {**fields, "name": name, "price": Decimal("45.00")})
        products.create_product(owner, {**fields, "name": unique("Gallery Torch"), "price": Decimal("9.00")})
        files = (camera_photo(), photo("boats.jpg"), photo("leaf.jpg"))
        uploads = [media.NewImage(io.BytesIO(path.read_bytes()), alt) for path, alt in zip(files, ALTS, strict=True)]
        images = media.add_images(owner, product.id, uploads)
        db.session.commit()
        return Shown(f"/products/{product.id}-{product.slug}", name, tuple(image.id for image in images))


@pytest.fixture
def new_context(browser: Browser, base_url: str):  # type: ignore[no-untyped-def]
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        contexts.append(browser.new_context(base_url=base_url, **options))  # type: ignore[arg-type]
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()


def main_image(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#product-gallery img.gallery-main")


def loaded_size(page: Page) -> tuple[int, int]:
    """The main image's natural size once the browser has it (so the file it shows did load)."""
    image = main_image(page)
    expect(image).to_have_js_property("complete", True)
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > 0 and height > 0, "the main image did not load"
    return width, height


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_a_thumbnail_shows_its_image_large(new_context, lamp: Shown, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    page = new_context(java_script_enabled=javascript, viewport=DESKTOP).new_page()
    page.goto(lamp.url)
    expect(main_image(page)).to_have_attribute("alt", ALTS[0])
    expect(main_image(page)).to_have_attribute("fetchpriority", "high")
    width, height = loaded_size(page)
    assert width < height  # the portrait photo, upright
    thumbs = page.locator("#product-gallery .thumbs li")
    expect(thumbs).to_have_count(3)
    assert thumbs.evaluate_all("items => items.map(li => getComputedStyle(li).listStyleType)") == ["none"] * 3
    if javascript:  # a mark on the window survives an in-place swap, not a page load
        page.evaluate("window.stillHere = true")

    page.get_by_role("link", name=f"Show image 2 of 3: {ALTS[1]}").click()
    expect(main_image(page)).to_have_attribute("alt", ALTS[1])
    expect(page).to_have_url(f"{page.url.split('?')[0]}?image={lamp.image_ids[1]}")
    width, height = loaded_size(page)
    assert width > height  # now the landscape photo
    expect(page.get_by_role("link", name=f"Show image 2 of 3: {ALTS[1]}")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("heading", level=1, name=lamp.name)).to_be_visible()
    if javascript:
        assert page.evaluate("window.stillHere") is True, "the page was loaded again, not swapped in place"
        expect(page.get_by_role("link", name=f"Show image 2 of 3: {ALTS[1]}")).to_be_focused()

    page.get_by_role("link", name=f"Show image 3 of 3: {ALTS[2]}").click()
    expect(main_image(page)).to_have_attribute("alt", ALTS[2])
    page.go_back()  # the address bar and history follow the chosen image
    expect(main_image(page)).to_have_attribute("alt", ALTS[1])


def test_on_a_phone_a_portrait_photo_leaves_the_name_and_price_in_view(new_context, lamp: Shown) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=PHONE).new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for reader in ("anonymous", "signed-in"):  # a signed-in reader's header holds more links
        if reader == "signed-in":
            register_owner(page, unique("Phone Reader"))
        page.goto(lamp.url)
        width, height = loaded_size(page)
        image = main_image(page).bounding_box()
        name = page.get_by_role("heading", level=1, name=lamp.name).bounding_box()
        price = page.locator(".product-info .product-price").bounding_box()
        assert image and name and price
        assert image["height"] < 0.75 * PHONE["width"] * height / width  # capped: at full width it would be taller
        for what, box in (("name", name), ("price", price)):
            bottom = box["y"] + box["height"]
            assert bottom <= PHONE["height"], f"{reader}: the {what} ends at {bottom} px, below the fold"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(SCREENSHOTS / f"product-gallery-390-{reader}.png"))

    page.set_viewport_size(DESKTOP)  # on a desktop, the photo is no longer ~850 px tall
    box = main_image(page).bounding_box()
    assert box and box["height"] <= 576 + 1


def test_a_phone_downloads_the_photo_at_the_size_it_shows(new_context, lamp: Shown) -> None:  # type: ignore[no-untyped-def]
    """The capped portrait photo is ~230 px wide: at 2.6 device pixels a CSS pixel the 600 px wide medium file is
    enough, where a full-width ``sizes`` (100vw: 1 000 device pixels) would take the 1 200 px large one."""
    page = new_context(viewport=PHONE, device_scale_factor=2.625).new_page()
    page.goto(lamp.url)
    loaded_size(page)
    drawn = main_image(page).evaluate("img => img.getBoundingClientRect().width * devicePixelRatio")
    assert drawn <= 600
    assert main_image(page).evaluate("img => img.currentSrc").endswith("-medium.webp")


def test_the_json_ld_is_on_the_page_and_the_csp_lets_it_be(new_context, lamp: Shown) -> None:  # type: ignore[no-untyped-def]
    """The CSP violations Chromium reports fail every browser test (tests/browser/conftest.py); this one reads the
    blocks as the page has them."""
    page = new_context().new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    page.goto(lamp.url)
    blocks = page.locator('script[type="application/ld+json"]').evaluate_all("s => s.map(e => e.textContent)")
    kinds = {json.loads(block)["@type"]: json.loads(block) for block in blocks}
    assert set(kinds) == {"Product", "BreadcrumbList"}
    product = kinds["Product"]
    assert product["name"] == lamp.name and product["offers"]["price"] == "45.00"
    assert len(product["image"]) == 3 and all(url.startswith("http://127.0.0.1:") for url in product["image"])
    assert page.locator('link[rel="canonical"]').get_attribute("href") == page.url
    assert violations == []


def test_the_product_page_with_its_gallery_has_no_serious_accessibility_problems(new_context, lamp: Shown) -> None:  # type: ignore[no-untyped-def]
    page = new_context(bypass_csp=True).new_page()  # axe is injected as an inline script
    problems = []
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(lamp.url)
        problems += [f"@{viewport['width']}px: {p}" for p in _serious_violations(page)]
    assert not problems, "\n".join(problems)
