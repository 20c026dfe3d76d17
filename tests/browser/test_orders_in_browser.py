"""The whole purchase path in Chromium (issue 15's "done when"): an anonymous visitor adds two products from two
shops, registers, checks out and sees two orders; each owner marks theirs paid and ships it with a tracking
number; the buyer sees "shipped" with the tracking number, and the mails are in the outbox. Along the way: the
cart and the owner's order page have no serious axe problems and no sideways scroll at 390 px.

``README_SCREENSHOTS=1`` also saves the README's pictures (docs/screenshots/cart.png, owner-order.png); they are
always saved to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shopapp.auth import services as accounts
from shopapp.extensions import db
from shopapp.mail.models import OutboxMail
from shopapp.products import services as products
from shopapp.shops import services as shops
from tests.browser.conftest import ROOT, SCREENSHOTS
from tests.browser.flows import unique
from tests.browser.test_pages_in_browser import _serious_violations
from tests.conftest import DEFAULT_PASSWORD
from tests.live import LiveServer

pytestmark = pytest.mark.browser
README_SCREENSHOTS = ROOT / "docs" / "screenshots"


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    if os.environ.get("README_SCREENSHOTS"):
        page.screenshot(path=str(README_SCREENSHOTS / name), full_page=True)


def _no_sideways_scroll(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width[0] <= width[1], f"{page.url} scrolls sideways at 390 px: {width}"


def _seller(app: Any, word: str, product: str, price: str, fee: str) -> dict[str, Any]:
    """An owner with a shop (its shipping fee) and one product, made through the services."""
    name = unique(f"{word} Owner")
    email = f"{name.replace(' ', '.').lower()}@example.com"
    with app.app_context():
        owner = accounts.register(email, DEFAULT_PASSWORD, name)
        shop = shops.create_shop(owner, {"name": unique(f"{word} Shop"), "shipping_fee": fee})
        item = products.create_product(
            owner, {"shop_id": shop.id, "name": unique(product), "price": Decimal(price), "stock": 5}
        )
        db.session.commit()
        return {
            "email": email,
            "shop": shop.name,
            "shop_id": shop.id,
            "product": item.name,
            "url": f"/products/{item.id}-{item.slug}",
        }


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("You are logged in.")).to_be_visible()


def _mails(app: Any, recipient: str) -> list[OutboxMail]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == recipient).order_by(OutboxMail.id))
        return list(rows)


def test_a_visitor_buys_from_two_shops_and_both_owners_ship(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    app = live_server.app
    lamps = _seller(app, "Lamp", "Brass Lamp", "40.00", "4.90")
    mugs = _seller(app, "Mug", "Blue Mug", "12.50", "0.00")
    buyer_name = unique("Bea Buyer")
    buyer_email = f"{buyer_name.replace(' ', '.').lower()}@example.com"

    visitor = browser.new_context(base_url=base_url)
    try:
        page = visitor.new_page()
        # The product page: a quantity, "Add to cart" in place, the header's count.
        page.goto(lamps["url"])
        page.evaluate("window.__samePage = true")
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name=f"Add {lamps['product']} to cart", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="is in your cart")).to_be_visible()
        expect(page.locator("#cart-link")).to_contain_text("2")
        assert page.evaluate("window.__samePage") is True
        # A catalog card.
        page.goto("/?q=" + mugs["product"].replace(" ", "+"))
        page.get_by_role("button", name=f"Add {mugs['product']} to cart", exact=True).click()
        expect(page.locator("#cart-link")).to_contain_text("3")

        page.get_by_role("link", name=re.compile(r"^Cart")).click()
        expect(page.get_by_role("heading", name=lamps["shop"])).to_be_visible()
        expect(page.get_by_role("heading", name=mugs["shop"])).to_be_visible()
        expect(page.locator(".cart-total")).to_contain_text("€97.40")  # 80 + 4.90 + 12.50
        # A quantity changed in place.
        page.get_by_label(f"Quantity of {mugs['product']}").fill("2")
        page.get_by_label(f"Quantity of {mugs['product']}").blur()
        expect(page.locator(".cart-total")).to_contain_text("€109.90")
        expect(page.locator("#cart-link")).to_contain_text("4")
        _screenshot(page, "cart.png")
        _no_sideways_scroll(page)

        # Checkout needs an account: log in page, then register, back to checkout with the cart merged.
        page.get_by_role("button", name="Checkout").click()
        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("Name").fill(buyer_name)
        page.get_by_label("Email").fill(buyer_email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Shipping address")).to_be_visible()
        expect(page.locator("#cart-link")).to_contain_text("4")
        page.get_by_label("Address", exact=True).fill("1 Main Street")
        page.get_by_label("Postal code").fill("10115")
        page.get_by_label("City").fill("Berlin")
        page.get_by_label("Country").fill("de")
        page.get_by_label("Note for the shops").fill("Please ring twice")
        page.get_by_role("button", name="Review order").click()
        expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
        page.get_by_role("button", name="Place order · €109.90").click()
        expect(page.get_by_role("heading", name="Thank you, your order is placed")).to_be_visible()
        numbers = page.locator(".order-numbers li a").all_inner_texts()
        assert len(numbers) == 2, numbers
        page.get_by_role("link", name="Orders", exact=True).click()
        expect(page.locator(".orders-table tbody tr")).to_have_count(2)

        # Each owner marks theirs paid and ships it with a tracking number, in place.
        tracking = {}
        for n, seller in enumerate((lamps, mugs)):
            owner = browser.new_context(base_url=base_url, bypass_csp=n == 0)  # axe is an inline script
            try:
                desk = owner.new_page()
                _log_in(desk, seller["email"])
                desk.goto("/dashboard/")
                desk.get_by_role("button", name=f"Orders of {seller['shop']}").click()
                expect(desk.get_by_role("heading", name=f"{seller['shop']}: orders")).to_be_visible()
                desk.locator(".orders-table tbody a").first.click()
                expect(desk.get_by_text("Please ring twice")).to_be_visible()
                desk.evaluate("window.__samePage = true")
                desk.get_by_role("button", name="Mark paid").click()
                expect(desk.get_by_text("is marked paid")).to_be_visible()
                tracking[seller["shop"]] = f"TRACK-{n}-{seller['shop_id']}"
                desk.get_by_label("Tracking number").fill(tracking[seller["shop"]])
                desk.get_by_role("button", name="Mark shipped").click()
                expect(desk.get_by_text("is marked shipped")).to_be_visible()
                expect(desk.get_by_role("button", name="Mark delivered")).to_be_visible()
                expect(desk.get_by_role("button", name="Mark paid")).to_have_count(0)
                assert desk.evaluate("window.__samePage") is True
                if n == 0:
                    _screenshot(desk, "owner-order.png")
                    _no_sideways_scroll(desk)
                    problems = _serious_violations(desk)
                    desk.go_back()
                    problems += _serious_violations(desk)
                    assert not problems, "\n".join(problems)
            finally:
                owner.close()

        # The buyer sees both shipped, with their tracking numbers.
        page.reload()
        expect(page.locator(".orders-table")).to_contain_text("Shipped")
        for number in numbers:
            page.goto("/account/orders")
            page.get_by_role("link", name=number.removeprefix("Order ")).click()
            expect(page.locator(".order-status")).to_contain_text("Shipped")
            shown = page.locator(".tracking-number").inner_text()
            assert shown in tracking.values()
    finally:
        visitor.close()

    # The mails, queued in the outbox with the orders: the buyer's confirmation and two "on its way", each owner's.
    subjects = [mail.subject for mail in _mails(app, buyer_email)]
    assert sum(s.startswith("Your orders") for s in subjects) == 1, subjects
    shipped = [mail for mail in _mails(app, buyer_email) if "on its way" in mail.subject]
    assert len(shipped) == 2 and {m.text_body.split("Tracking number: ")[1].split()[0] for m in shipped} == set(
        tracking.values()
    )
    for seller in (lamps, mugs):
        mails = _mails(app, seller["email"])
        assert [m.subject.startswith("New order") for m in mails] == [True], [m.subject for m in mails]
        assert seller["product"] in mails[0].text_body and "1 Main Street" in mails[0].text_body


def test_the_cart_and_checkout_pages_have_no_serious_accessibility_problems(
    browser: Browser, live_server: LiveServer, base_url: str
) -> None:
    seller = _seller(live_server.app, "Axe", "Axe Kettle", "20.00", "2.00")
    context = browser.new_context(base_url=base_url, bypass_csp=True)  # axe is an inline script
    try:
        page = context.new_page()
        page.goto(seller["url"])
        page.get_by_role("button", name=f"Add {seller['product']} to cart", exact=True).click()
        expect(page.locator("#cart-link")).to_contain_text("1")
        problems = [f"product: {p}" for p in _serious_violations(page)]
        page.goto("/cart")
        problems += [f"cart: {p}" for p in _serious_violations(page)]
        page.get_by_role("button", name="Checkout").click()
        problems += [f"login: {p}" for p in _serious_violations(page)]
        assert not problems, "\n".join(problems)
    finally:
        context.close()
