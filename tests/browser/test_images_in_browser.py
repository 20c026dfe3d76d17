"""An owner uploads product images in the dashboard (a camera's photo, several at once, refused ones) and
edits their alt texts, with JavaScript on and off; a customer sees them on the product page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.flows import add_product, create_shop, open_images_of_a_new_product, register_owner, unique
from tests.media import files
from tests.media.photos import TOO_LARGE, camera_photo, photo

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
        with page.expect_navigation():  # to its "load": app.js (deferred) must see the files being chosen
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


JS = pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])


@pytest.fixture
def new_page(browser: Browser, base_url: str):  # type: ignore[no-untyped-def]
    """``new_page(javascript)``: a page in a context of its own, closed after the test."""
    contexts: list[BrowserContext] = []

    def make(javascript: bool) -> Page:
        contexts.append(browser.new_context(base_url=base_url, java_script_enabled=javascript))
        return contexts[-1].new_page()

    yield make
    for context in contexts:
        context.close()


def choose(page: Page, *paths: Path) -> None:
    page.get_by_label("Images", exact=True).set_input_files([str(path) for path in paths])


def upload(page: Page) -> None:
    page.get_by_role("button", name="Upload images").click()


def gallery(page: Page) -> Locator:
    return page.locator("#gallery")


def natural_size(image: Locator) -> tuple[int, int]:
    """The size the browser decoded the image at (once it has loaded)."""
    expect(image).to_have_js_property("complete", True)
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > 0 and height > 0, "the image did not load"
    return width, height


@JS
def test_the_camera_photo_uploads_and_shows_upright_in_the_gallery(new_page, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    page = new_page(javascript)
    open_images_of_a_new_product(page, "Camera")
    camera = camera_photo()
    choose(page, camera)
    if javascript:
        expect(page.get_by_role("img", name=f"Preview of {camera.name}")).to_be_visible()
        expect(page.locator(".previews .field-error")).to_have_count(0)  # 3.7 MB: no warning
        page.get_by_label(f"Alt text of {camera.name}").fill("A forest, taken upright")
    else:
        page.get_by_label("Alt text", exact=True).fill("A forest, taken upright")
    upload(page)
    expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
    image = gallery(page).get_by_role("img", name="A forest, taken upright")
    expect(image).to_be_visible()
    width, height = natural_size(image)
    assert (width, height) == (240, 320)  # the small rendition, portrait as the phone was held
    if javascript:  # the form is ready for the next files
        expect(page.locator(".previews figure")).to_have_count(0)
        expect(page.get_by_label("Alt text", exact=True)).to_be_visible()
    expect(page.get_by_text("1 image added.")).to_be_visible()  # said at once, with JavaScript too
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"gallery-camera-photo-{'htmx' if javascript else 'no-js'}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.reload()  # ... and only once: not again, stale, on the next page
    expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
    expect(page.get_by_text("1 image added.")).to_have_count(0)


@JS
def test_a_refused_file_shows_its_reason_in_place(new_page, tmp_path: Path, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    page = new_page(javascript)
    open_images_of_a_new_product(page, "Refusal")
    good, evil = tmp_path / "good.jpg", tmp_path / "evil.jpg"
    good.write_bytes(files.jpeg())
    evil.write_bytes(files.HTML)
    choose(page, good)
    upload(page)
    expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
    expect(page.get_by_text("1 image added.")).to_be_visible()
    if javascript:
        page.evaluate("window.__samePage = true")

    choose(page, evil)
    upload(page)
    errors = gallery(page).get_by_role("alert")
    expect(errors).to_contain_text(
        "evil.jpg: The file contains markup or script; upload a plain JPEG, PNG or WebP image."
    )
    expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
    expect(page.get_by_text("1 image added.")).to_have_count(0)

    big = photo(TOO_LARGE)
    choose(page, big)
    if javascript:  # said at once, before anything is sent
        expect(page.locator(".previews .field-error")).to_have_text(
            f"{big.name} is 12.7 MB: larger than 10 MB, so it will be refused."
        )
    upload(page)
    expect(errors).to_have_text(f"{big.name}: The image is larger than 10 MB.")
    expect(errors).not_to_contain_text("evil.jpg")
    expect(page.get_by_text("1 image added.")).to_have_count(0)
    expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
    if javascript:
        assert page.evaluate("window.__samePage") is True
        expect(page.get_by_role("img", name=f"Preview of {big.name}")).to_be_visible()  # kept, to fix and resend


def test_two_files_each_get_their_own_alt_text(new_page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = new_page(True)
    open_images_of_a_new_product(page, "Pair")
    first, second = tmp_path / "front.jpg", tmp_path / "back.png"
    first.write_bytes(files.jpeg((800, 600)))
    second.write_bytes(files.png_with_alpha((600, 800)))
    choose(page, first, second)
    expect(page.locator(".previews figure")).to_have_count(2)
    expect(page.get_by_label("Alt text", exact=True)).to_be_hidden()
    page.get_by_label("Alt text of front.jpg").fill("The lamp from the front")
    page.get_by_label("Alt text of back.png").fill("The lamp from the back")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".upload-form").screenshot(path=str(SCREENSHOTS / "upload-form-two-previews.png"))
    upload(page)
    expect(page.get_by_role("heading", name="2 of 10 images")).to_be_visible()
    shown = gallery(page).get_by_role("img")
    expect(shown).to_have_count(2)
    expect(shown.nth(0)).to_have_attribute("alt", "The lamp from the front")
    expect(shown.nth(1)).to_have_attribute("alt", "The lamp from the back")
    assert natural_size(shown.nth(0)) == (320, 240) and natural_size(shown.nth(1)) == (240, 320)


@JS
def test_an_alt_text_edited_in_the_gallery_is_saved(new_page, tmp_path: Path, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    page = new_page(javascript)
    product = open_images_of_a_new_product(page, "Alt")
    lamp = tmp_path / "lamp.jpg"
    lamp.write_bytes(files.jpeg())
    choose(page, lamp)
    upload(page)
    expect(gallery(page).get_by_role("img", name=product)).to_be_visible()  # no alt given: the product's name
    if javascript:
        page.evaluate("window.__samePage = true")
    page.get_by_label("Alt text of image 1").fill("The lamp, switched off")
    gallery(page).get_by_role("button", name="Save").click()
    expect(gallery(page).get_by_role("img", name="The lamp, switched off")).to_be_visible()
    expect(page.get_by_text("Alt text saved.")).to_be_visible()
    expect(page.get_by_text("1 image added.")).to_have_count(0)
    if javascript:
        assert page.evaluate("window.__samePage") is True
    page.reload()
    expect(page.get_by_text("Alt text saved.")).to_have_count(0)
    expect(page.get_by_label("Alt text of image 1")).to_have_value("The lamp, switched off")
    expect(gallery(page).get_by_role("img", name="The lamp, switched off")).to_be_visible()
