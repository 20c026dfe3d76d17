"""The CSV import in a real browser (issue 17's "done when"): a file with errors is reported row by row, the
fixed file is applied, and the import is undone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import add_product, create_shop, register_owner, unique

pytestmark = pytest.mark.browser

HEADER = "sku,name,description,price,stock,category,is_active\r\n"


def choose(page: Page, body: str) -> None:
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "products.csv", "mimeType": "text/csv", "buffer": body.encode("utf-8")}]
    )
    page.get_by_role("button", name="Check the file").click()


def test_imports_a_csv_with_errors_fixes_it_applies_it_and_undoes_it(page: Page) -> None:
    register_owner(page, unique("Ida Importer"))
    create_shop(page, unique("Ida Lamps"))
    add_product(page, "Old lamp", "20.00", "1")
    lamp_a, lamp_b = unique("Brass lamp"), unique("Paper lamp")

    page.get_by_role("button", name="Import CSV").click()  # Pico styles the link as a button
    expect(page.get_by_role("heading", name="Import products from CSV")).to_be_visible()
    choose(page, HEADER + f",{lamp_a},,12.50,3,,true\r\n,{lamp_b},,abc,1,Nowhere,true\r\n")
    expect(page.get_by_role("heading", name="What the import would do")).to_be_visible()
    problems = page.get_by_role("table", name="Every problem of the invalid rows")
    expect(problems.get_by_role("row")).to_have_count(3)  # the heading and two problems of line 3
    expect(problems.get_by_role("row", name="3 price must be a number such as 19.99")).to_be_visible()
    expect(problems.get_by_role("row", name="3 category no category has this path (create it first)")).to_be_visible()
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)

    page.get_by_role("button", name="Upload a fixed file").click()
    choose(page, HEADER + f",{lamp_a},,12.50,3,,true\r\n,{lamp_b},,8.00,1,,true\r\n")
    expect(page.get_by_role("table")).to_have_count(0)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Import applied: created 2, updated 0, unchanged 0, invalid 0.")).to_be_visible()
    expect(page.get_by_role("row", name=lamp_a)).to_be_visible()
    expect(page.get_by_role("row", name=lamp_b)).to_be_visible()

    page.get_by_role("button", name="Undo import").click()
    expect(page.get_by_text("Import undone: 0 products back as they were, 2 created ones deleted.")).to_be_visible()
    expect(page.get_by_role("row", name=lamp_a)).to_have_count(0)
    expect(page.get_by_role("row", name="Old lamp")).to_be_visible()
