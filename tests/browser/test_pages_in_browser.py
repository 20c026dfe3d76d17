"""The pages in a real browser: live search, history, the owner's flow with and without JavaScript, axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import AXE, SCREENSHOTS
from tests.browser.flows import add_product, create_shop, delete_then_undo, register_owner, unique

pytestmark = pytest.mark.browser


def _results(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#results")


def test_owner_flow_with_htmx_then_a_customer_finds_the_product(page: Page, browser: Browser, base_url: str) -> None:
    owner, shop, product = unique("Ann Owner"), unique("Ann Pottery"), unique("Speckled Mug")
    register_owner(page, owner)
    create_shop(page, shop)
    add_product(page, product, "12.50", "3")

    # Inline edit of the stock: the row swaps to a form and back, no page load.
    page.evaluate("window.__samePage = true")
    page.get_by_role("link", name=f"Quick edit {product}").click()
    page.get_by_label("Stock", exact=True).fill("7")
    page.get_by_role("button", name="Save").click()
    row = page.get_by_role("row", name=product)
    expect(row.get_by_text("Saved")).to_be_visible()
    assert page.evaluate("window.__samePage") is True
    page.reload()
    expect(page.get_by_role("row", name=product).get_by_role("cell", name="7", exact=True)).to_be_visible()

    delete_then_undo(page, product)

    customer = browser.new_context(base_url=base_url)
    try:
        shopper = customer.new_page()
        shopper.goto("/")
        shopper.get_by_label("Search").fill(product)
        expect(shopper).to_have_url(re.compile(r"\?q=Speckled"))
        shopper.get_by_role("link", name=product).click()
        expect(shopper.get_by_role("heading", level=1, name=product)).to_be_visible()
        expect(shopper.get_by_text("€12.50").first).to_be_visible()
        expect(shopper.get_by_role("link", name=shop)).to_be_visible()
    finally:
        customer.close()


def test_typing_updates_results_in_place_and_back_restores_them(page: Page) -> None:
    page.goto("/")
    page.evaluate("window.__samePage = true")
    page.get_by_label("Search").fill("mug")
    expect(page).to_have_url(re.compile(r"/\?q=mug&sort=relevance$"))  # empty filters left out
    expect(_results(page)).to_contain_text("for “mug”")

    page.get_by_label("Sort by").select_option("price_desc")
    expect(page).to_have_url(re.compile(r"sort=price_desc"))
    assert page.evaluate("window.__samePage") is True

    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?q=mug&sort=relevance$"))
    expect(page.get_by_label("Sort by")).to_have_value("relevance")
    expect(_results(page)).to_contain_text("for “mug”")
    expect(page.get_by_label("Search")).to_have_value("mug")


def test_on_a_phone_the_filters_fold_so_results_follow_the_search_box(browser: Browser, base_url: str) -> None:
    owner, shop, product = unique("Fold Owner"), unique("Fold Shop"), unique("Fold Mug")
    for javascript in (True, False):
        context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844},
                                      java_script_enabled=javascript)  # fmt: skip
        page = context.new_page()
        if javascript:
            register_owner(page, owner)
            create_shop(page, shop)
            add_product(page, product, "9.50", "4")
        page.goto(f"/?q={product}")
        card = page.get_by_role("link", name=product).first
        expect(card).to_be_visible()
        panel = page.locator("details.filters-panel")
        if javascript:  # folded: the first result is on the first screen, the filters one tap away
            assert panel.evaluate("el => el.open") is False
            assert card.bounding_box()["y"] < 844
            page.get_by_text("Filters and sort").click()
            expect(page.get_by_label("Sort by")).to_be_visible()
            page.set_viewport_size({"width": 1280, "height": 900})  # beside the results, open, no heading
            page.set_viewport_size({"width": 390, "height": 844})
            page.set_viewport_size({"width": 1280, "height": 900})
            expect(page.get_by_label("Sort by")).to_be_visible()
            expect(page.get_by_text("Filters and sort")).to_be_hidden()
        else:  # without JavaScript nothing folds: every filter is there
            assert panel.evaluate("el => el.open") is True
            expect(page.get_by_label("Sort by")).to_be_visible()
        context.close()


def test_owner_flow_without_javascript(browser: Browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        owner, shop, product = unique("Nora Nojs"), unique("Plain Shop"), unique("Wooden Spoon")
        register_owner(page, owner)
        create_shop(page, shop)
        add_product(page, product, "4.00", "10")

        page.get_by_role("link", name=f"Quick edit {product}").click()  # the full edit form instead
        expect(page.get_by_role("heading", name="Edit product")).to_be_visible()
        page.get_by_label("Stock", exact=True).fill("11")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("row", name=product).get_by_role("cell", name="11", exact=True)).to_be_visible()

        delete_then_undo(page, product)

        page.goto("/")
        page.get_by_label("Search").fill(product)
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"\?q=Wooden"))
        page.get_by_role("link", name=product).click()
        expect(page.get_by_role("heading", level=1, name=product)).to_be_visible()
    finally:
        context.close()


def _serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_key_pages_have_no_serious_accessibility_problems(browser: Browser, base_url: str) -> None:
    # axe is injected as an inline script, which the pages' CSP rightly refuses: only this test bypasses it.
    context = browser.new_context(base_url=base_url, bypass_csp=True)
    page = context.new_page()
    owner, shop, product = unique("Axe Owner"), unique("Axe Shop"), unique("Axe Lamp")
    page.goto("/login")
    login_url = page.url
    register_owner(page, owner)
    create_shop(page, shop)
    add_product(page, product, "30.00", "2")
    dashboard_url = page.url
    page.goto("/")
    page.get_by_role("link", name=product).first.click()
    product_url = page.url

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    pages = {"catalog": "/", "product": product_url, "dashboard": dashboard_url, "login": login_url}
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for name, url in pages.items():
            page.goto(url)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
            problems += [f"{name} @{width}px: {p}" for p in _serious_violations(page)]
    context.close()
    assert not problems, "\n".join(problems)
