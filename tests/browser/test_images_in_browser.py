"""An owner uploads a product image in the dashboard; a customer sees it on the product page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.flows import add_product, create_shop, register_owner, unique
from tests.media import files

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_owner_uploads_an_image_and_a_customer_sees_it(
    browser: Browser, base_url: str, tmp_path: Path, javascript: bool
) -> None:
    photo = tmp_path / "lamp.jpg"
    photo.write_bytes(files.jpeg((1200, 900), orientation=6))
    owner_context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    customer_context = browser.new_context(base_url=base_url)
    try:
        page: Page = owner_context.new_page()
        owner, shop, product = unique("Ivy Images"), unique("Lamp Shop"), unique("Brass Lamp")
        register_owner(page, owner)
        create_shop(page, shop)
        add_product(page, product, "45.00", "2")
        page.get_by_role("link", name=f"Images of {product}").click()
        page.get_by_label("Images", exact=True).set_input_files(str(photo))
        if javascript:  # each chosen file gets its own alt text field; the shared one is set aside
            expect(page.get_by_role("img", name="Preview of lamp.jpg")).to_be_visible()
            expect(page.get_by_label("Alt text", exact=True)).to_be_hidden()
            page.get_by_label("Alt text of lamp.jpg").fill("A brass lamp, lit")
        else:
            page.get_by_label("Alt text", exact=True).fill("A brass lamp, lit")
        page.get_by_role("button", name="Upload images").click()
        expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
        expect(page.get_by_role("img", name="A brass lamp, lit")).to_be_visible()

        shopper = customer_context.new_page()
        shopper.goto("/")
        shopper.get_by_label("Search").fill(product)
        if not javascript:
            shopper.get_by_role("button", name="Apply filters").click()
        card = shopper.get_by_role("article").filter(has=shopper.get_by_role("link", name=product, exact=True))
        expect(card.get_by_role("img", name="A brass lamp, lit")).to_be_visible()
        card.get_by_role("link", name=product, exact=True).click()
        gallery_image = shopper.locator(".product-gallery img").first
        expect(gallery_image).to_have_attribute("alt", "A brass lamp, lit")
        expect(gallery_image).to_have_attribute("srcset", re.compile(r"-large\.webp 900w"))
        # Upright (EXIF orientation applied) and actually loaded by the browser.
        natural = gallery_image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert natural[0] and natural[1] < natural[2]
    finally:
        owner_context.close()
        customer_context.close()
