"""An owner puts a product's image at another place in one step: by dragging it onto that place (JavaScript on),
or by choosing the position and pressing "Move" (JavaScript off); the new order is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.flows import open_images_of_a_new_product
from tests.media import files

pytestmark = pytest.mark.browser
ALTS = ("Front", "Side", "Back")


def _upload_three(page: Page, tmp_path: Path, javascript: bool) -> None:
    """One upload per image, each with its alt text (a field per chosen file with JavaScript, the shared one
    without)."""
    for count, (alt, size) in enumerate(zip(ALTS, ((300, 200), (200, 300), (250, 250)), strict=True), start=1):
        path = tmp_path / f"{alt.lower()}.webp"
        path.write_bytes(files.webp(size))
        page.get_by_label("Images", exact=True).set_input_files(str(path))
        page.get_by_label(f"Alt text of {path.name}" if javascript else "Alt text", exact=True).fill(alt)
        page.get_by_role("button", name="Upload images").click()
        expect(page.get_by_role("heading", name=f"{count} of 10 images")).to_be_visible()


def _order(page: Page) -> list[str]:
    return page.locator("#gallery .image-item img").evaluate_all("images => images.map((image) => image.alt)")


def _expect_order(page: Page, alts: list[str]) -> None:
    images = page.locator("#gallery .image-item img")
    for index, alt in enumerate(alts):
        expect(images.nth(index)).to_have_attribute("alt", alt)
    assert _order(page) == alts


def test_dragging_an_image_onto_the_first_place_makes_it_primary(
    browser: Browser, base_url: str, tmp_path: Path
) -> None:
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        open_images_of_a_new_product(page, "Drag")
        _upload_three(page, tmp_path, javascript=True)
        items = page.locator("#gallery .image-item")
        items.nth(2).drag_to(items.nth(0))
        _expect_order(page, ["Back", "Front", "Side"])
        expect(items.nth(0)).to_contain_text("Primary image")
        items.nth(0).drag_to(items.nth(1))  # and one place later
        _expect_order(page, ["Front", "Back", "Side"])
        page.reload()  # stored, not only shown
        _expect_order(page, ["Front", "Back", "Side"])
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_choosing_a_position_moves_an_image_there(
    browser: Browser, base_url: str, tmp_path: Path, javascript: bool
) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    try:
        page = context.new_page()
        open_images_of_a_new_product(page, "Position")
        _upload_three(page, tmp_path, javascript)
        page.get_by_label("Position of image 1").select_option("3")
        page.get_by_role("button", name="Move image 1").click()
        _expect_order(page, ["Side", "Back", "Front"])
        expect(page.get_by_label("Position of image 3")).to_have_value("2")
        page.reload()
        _expect_order(page, ["Side", "Back", "Front"])
    finally:
        context.close()
