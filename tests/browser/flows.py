"""What a person does through the pages; the same steps work with JavaScript on or off."""

from __future__ import annotations

from itertools import count

from playwright.sync_api import Page, expect

from tests.conftest import DEFAULT_PASSWORD

_serial = count(1)


def unique(word: str) -> str:
    """A name no other test in the session uses (they share one live database)."""
    return f"{word} {next(_serial)}"


def register_owner(page: Page, name: str) -> None:
    page.goto("/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(f"{name.replace(' ', '.').lower()}@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your shops")).to_be_visible()


def log_in(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()


def create_shop(page: Page, name: str) -> None:
    page.goto("/dashboard/")
    page.get_by_role("button", name="Create shop").first.click()  # Pico styles the link as a button
    page.get_by_label("Name").fill(name)
    page.get_by_label("Phone").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Create shop").click()
    expect(page.get_by_role("heading", name=f"{name}: products")).to_be_visible()


def add_product(page: Page, name: str, price: str, stock: str) -> None:
    """From a shop's products table: add one product and come back to the table."""
    page.get_by_role("button", name="Add product").first.click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("Hand made, one at a time.")
    page.get_by_label("Price").fill(price)
    page.get_by_label("Stock", exact=True).fill(stock)
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("row", name=name)).to_be_visible()


def delete_then_undo(page: Page, name: str) -> None:
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(page.get_by_text(f"Product “{name}” deleted.")).to_be_visible()
    expect(page.get_by_role("row", name=name)).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text(f"Product “{name}” restored.")).to_be_visible()
    expect(page.get_by_role("row", name=name)).to_be_visible()


def open_images_of_a_new_product(page: Page, word: str) -> str:
    """A new owner with a shop and one product, on that product's images page; returns the product's name."""
    owner, shop, product = unique(f"{word} Owner"), unique(f"{word} Shop"), unique(f"{word} Lamp")
    register_owner(page, owner)
    create_shop(page, shop)
    add_product(page, product, "45.00", "2")
    with page.expect_navigation():  # to its "load": app.js (deferred) must see the files being chosen
        page.get_by_role("link", name=f"Images of {product}").click()
    expect(page.get_by_role("heading", name="0 of 10 images")).to_be_visible()
    return product
