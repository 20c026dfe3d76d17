"""With JavaScript on, an in-place action's message shows in the page's message region at once (a live region
that stays in place, so screen readers announce it), and never again, stale, on the next page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import open_images_of_a_new_product
from tests.media import files

pytestmark = pytest.mark.browser


def messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#flashes[role=status][aria-live=polite] .flash")


def test_in_place_image_messages_show_at_once_and_not_on_the_next_pages(page: Page, tmp_path: Path) -> None:
    open_images_of_a_new_product(page, "Messages")
    front, back = tmp_path / "front.jpg", tmp_path / "back.png"
    front.write_bytes(files.jpeg((800, 600)))
    back.write_bytes(files.png_with_alpha((600, 800)))
    page.evaluate("window.__samePage = true")

    page.get_by_label("Images", exact=True).set_input_files([str(front), str(back)])
    page.get_by_role("button", name="Upload images").click()
    expect(page.get_by_role("heading", name="2 of 10 images")).to_be_visible()
    expect(messages(page)).to_have_text(["2 images added."])

    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm
    page.locator("#gallery").get_by_role("button", name="Delete").first.click()
    expect(page.get_by_role("heading", name="1 of 10 images")).to_be_visible()
    expect(messages(page)).to_have_text(["Image deleted."])  # the region's content replaced, not added to
    expect(page.locator("#flashes")).to_have_count(1)
    assert page.evaluate("window.__samePage") is True  # all of it in place

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Your shops")).to_be_visible()
    expect(messages(page)).to_have_count(0)
    page.goto("/dashboard/categories/")
    expect(page.get_by_role("heading", name="Your categories")).to_be_visible()
    expect(messages(page)).to_have_count(0)
    page.go_back()
    expect(page.get_by_role("heading", name="Your shops")).to_be_visible()
    expect(messages(page)).to_have_count(0)
