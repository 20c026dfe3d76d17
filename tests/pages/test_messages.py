"""Where a flash message shows (core/messages.py): an htmx action's in the answer it swaps in, out of band into
the page's message region, and never later on another page; a plain form's on the page after the redirect, once.

The CSRF token is read once per test: reading it from a page would show, and so take, the waiting messages, and
hide the very leak these tests look for.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.media import files
from tests.pages.conftest import HTMX, csrf_token, post, text
from tests.pages.test_image_pages import images_of, upload
from tests.pages.test_orders_pages import add, customer, placed, two_shops  # noqa: F401  fixtures

_IN_PLACE = re.compile(r'<div id="flashes"[^>]*hx-swap-oob="innerHTML">(.*)</div>\s*$', re.S)
_MESSAGE = re.compile(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', re.S)


def in_place(response: TestResponse) -> list[str]:
    """The messages an htmx answer brings out of band, after the fragment; fails if it brings no region."""
    body = text(response)
    region = _IN_PLACE.search(body)
    assert region, f"no out-of-band message region at the end of:\n{body}"
    assert body.count('id="flashes"') == 1, body
    return [message for _, message in _MESSAGE.findall(region.group(1))]


def shown(client: FlaskClient, url: str) -> list[str]:
    """The messages the full page at ``url`` shows."""
    response = client.get(url)
    assert response.status_code == 200 and "<html" in text(response), url
    return [message for _, message in _MESSAGE.findall(text(response))]


def test_in_place_image_actions_say_what_they_did_in_their_answer_and_never_on_a_later_page(
    app, client, owner, make_shop, make_product
):
    """The issue's steps: upload two images, delete one, open the categories page (both messages showed there)."""
    product = make_product(shop=make_shop(owner=owner), name="Blue Mug")
    token = csrf_token(client, "/dashboard/")
    added = upload(
        client, product.id, ("a.jpg", files.jpeg()), ("b.png", files.png_with_alpha()), headers=HTMX, token=token
    )
    assert added.status_code == 200 and text(added).lstrip().startswith('<section id="gallery"')
    assert in_place(added) == ["2 images added."]
    assert "HX-Request" in added.headers["Vary"]
    first, second = images_of(app, product.id)
    saved = post(
        client, f"/dashboard/products/{product.id}/images/{first.id}/alt", {"alt": "Mug"}, token=token, headers=HTMX
    )
    assert in_place(saved) == ["Alt text saved."]
    deleted = post(client, f"/dashboard/products/{product.id}/images/{second.id}/delete", token=token, headers=HTMX)
    assert "1 of 10 images" in text(deleted) and in_place(deleted) == ["Image deleted."]
    # A write that has nothing to say still brings the region, empty: the last action's message goes.
    moved = post(client, f"/dashboard/products/{product.id}/images/{first.id}/move", token=token, headers=HTMX)
    assert in_place(moved) == []

    for url in ("/dashboard/categories/", "/dashboard/", f"/dashboard/products/{product.id}/images"):
        assert shown(client, url) == [], url


def test_without_javascript_the_message_shows_after_the_redirect_exactly_once(client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner), name="Blue Mug")
    token = csrf_token(client, "/dashboard/")
    added = upload(client, product.id, ("a.jpg", files.jpeg()), ("b.png", files.png_with_alpha()), token=token)
    assert added.status_code == 302 and "flashes" not in text(added)
    assert shown(client, added.headers["Location"]) == ["2 images added."]
    assert shown(client, added.headers["Location"]) == []
    assert shown(client, "/dashboard/categories/") == []


def test_in_place_cart_changes_say_so_in_their_answer_only(client, two_shops):  # noqa: F811
    lamp = two_shops["lamp"]
    add(client, lamp)
    token = csrf_token(client, "/cart")  # shows (and takes) the message of the plain "add to cart"
    updated = post(client, f"/cart/items/{lamp.id}", {"quantity": "2"}, token=token, headers=HTMX)
    assert "€80.00" in text(updated) and in_place(updated) == ["Your cart is updated."]
    refused = post(client, f"/cart/items/{lamp.id}", {"quantity": "9"}, token=token, headers=HTMX)
    assert refused.status_code == 409 and "only 3 left" in text(refused) and in_place(refused) == []
    removed = post(client, f"/cart/items/{lamp.id}/remove", token=token, headers=HTMX)
    assert "Your cart is empty" in text(removed) and in_place(removed) == ["The item is removed from your cart."]
    assert shown(client, "/cart") == [] and shown(client, "/") == []


def test_an_in_place_order_transition_says_so_in_its_answer_only(client, auth, two_shops, placed):  # noqa: F811
    order = placed[two_shops["lamps"].id]
    auth.login(two_shops["olga"])
    token = csrf_token(client, "/dashboard/")
    paid = post(client, f"/dashboard/orders/{order.id}/mark_paid", token=token, headers=HTMX)
    assert "Mark shipped" in text(paid) and in_place(paid) == [f"Order {order.number} is marked paid."]
    assert shown(client, f"/dashboard/orders/{order.id}") == [] and shown(client, "/dashboard/") == []


def test_an_htmx_answer_that_leaves_the_page_leaves_the_message_to_the_next_page(client, make_product):
    """A signed-out owner's in-place edit is sent to the login page (HX-Redirect): that page says why."""
    product = make_product()
    refused = client.get(f"/dashboard/products/{product.id}/quick", headers=HTMX)
    assert refused.status_code == 401 and "HX-Redirect" in refused.headers and "flashes" not in text(refused)
    assert shown(client, refused.headers["HX-Redirect"]) == ["Please log in to see this page."]


def test_a_read_in_place_with_nothing_to_say_gets_no_region(client, make_product):
    make_product(name="Blue Mug")
    results = client.get("/?q=mug", headers=HTMX)
    assert "Blue Mug" in text(results) and "flashes" not in text(results)
