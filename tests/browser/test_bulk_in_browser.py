"""A bulk edit as an owner does it: tick two rows of the products table, deactivate them, read the summary and
see both rows changed (the third untouched); with htmx (the table redrawn in place) and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.flows import add_product, create_shop, register_owner, unique


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_select_two_rows_and_deactivate_them(browser: Browser, base_url: str, javascript: bool) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    try:
        page = context.new_page()
        register_owner(page, unique("Bea Bulk"))
        create_shop(page, unique("Bulk Shop"))
        names = [unique(word) for word in ("Cup", "Jug", "Bowl")]
        for name in names:
            add_product(page, name, "5.00", "3")
        url = page.url
        for name in names[:2]:
            page.get_by_label(f"Select {name}").check()
        page.get_by_label("Action").select_option("deactivate")
        page.get_by_role("button", name="Apply").click()

        expect(page.get_by_text("2 products deactivated.")).to_be_visible()
        for name in names[:2]:  # gone from the table of active products
            expect(page.get_by_role("row", name=name)).to_have_count(0)
        expect(page.get_by_role("row", name=names[2]).get_by_role("cell", name="Yes", exact=True)).to_be_visible()
        expect(page.get_by_label(f"Select {names[2]}")).not_to_be_checked()  # a fresh bar for the next action
        if javascript:
            assert page.url == url  # swapped in place: no new page
            page.get_by_label("Select all on this page").check()  # shown with JavaScript only
            expect(page.get_by_label(f"Select {names[2]}")).to_be_checked()
        else:
            expect(page.get_by_label("Select all on this page")).to_be_hidden()
        page.goto(url + "?status=inactive")
        for name in names[:2]:
            expect(page.get_by_role("row", name=name).get_by_role("cell", name="No", exact=True)).to_be_visible()
        expect(page.get_by_role("row", name=names[2])).to_have_count(0)
    finally:
        context.close()
