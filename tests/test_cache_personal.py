"""One shared copy of a catalog page for every reader (shopapp/core/cache/per_response.py): signed-in customers,
visitors with a cart and visitors with a message waiting are served it too, each with their own account menu,
cart count, CSRF token and messages, and never anyone else's."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.core.cache import EXTENSION
from shopapp.extensions import db
from tests.api.conftest import Api
from tests.conftest import DEFAULT_PASSWORD, TEST_CACHE_URL, World
from tests.pages.conftest import HTMX, Auth, post

_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
_COUNT = re.compile(r'<span class="cart-count">(\d+)<')


@pytest.fixture(autouse=True)
def _redis_is_up() -> None:
    try:
        redis.Redis.from_url(TEST_CACHE_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {TEST_CACHE_URL}")


@pytest.fixture
def world(make_world, make_user) -> World:  # type: ignore[no-untyped-def]
    return make_world(
        make_user(name="Olga Owner", email="olga@example.com"),
        shop="Lamp Corner",
        category="Lighting",
        product="Brass Lamp",
        in_category=True,
        price=Decimal("40.00"),
        images=1,
        deleted=False,
    )


def _page(w: World) -> str:
    return f"/products/{w.product.id}-{w.product.slug}"


PAGES = {
    "product": _page,
    "catalog": lambda w: "/?q=lamp",
    "shop": lambda w: f"/shops/{w.shop.id}-{w.shop.slug}",
    "category": lambda w: f"/categories/{w.category.id}-{w.category.slug}",
}


def _signed_in(app: Flask, user: object, cart_items: int, world: World) -> FlaskClient:
    client = app.test_client()
    Auth(client).login(user)
    if cart_items:
        added = post(client, "/cart/add", {"product_id": world.product.id, "quantity": cart_items}, headers=HTMX)
        assert added.status_code == 200, added.text
    return client


def _cache_field(caplog: pytest.LogCaptureFixture, path: str) -> list[str]:
    return [
        re.search(r"cache=(\S+)", r.getMessage()).group(1)  # type: ignore[union-attr]
        for r in caplog.records
        if f"path={path.split('?')[0]} " in r.getMessage()
    ]


def _header(response: TestResponse) -> tuple[bool, int | None, str]:
    """Whether the page shows the account menu, the cart count it shows, the CSRF token it hands to htmx."""
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "\x00" not in body, body
    signed_in = "Log out" in body
    assert signed_in != ("Log in" in body)
    count = _COUNT.search(body)
    token = _TOKEN.search(body)
    assert token
    return signed_in, int(count.group(1)) if count else None, token.group(1)


@pytest.mark.parametrize("name", PAGES)
def test_every_reader_is_served_the_one_copy_with_their_own_header(app, world, make_user, caplog, name):
    path = PAGES[name](world)
    ann, bob = make_user(name="Ann Anders", email="ann@example.com"), make_user(name="Bob Berg", email="bob@b.com")
    readers = {
        "ann": _signed_in(app, ann, 2, world),
        "bob": _signed_in(app, bob, 0, world),
        "anonymous": app.test_client(),
        "anonymous with a cart": app.test_client(),
    }
    added = post(readers["anonymous with a cart"], "/cart/add", {"product_id": world.product.id, "quantity": 5})
    assert added.status_code == 302
    expected = {"ann": (True, 2), "bob": (True, None), "anonymous": (False, None), "anonymous with a cart": (False, 5)}
    caplog.set_level(logging.INFO, logger="shopapp.request")
    caplog.clear()
    tokens: dict[str, set[str]] = {}
    for order in (["ann", "bob", "anonymous", "anonymous with a cart"], ["anonymous", "bob", "ann"], ["bob", "ann"]):
        for reader in order:
            page = readers[reader].get(path)
            signed_in, count, token = _header(page)
            assert (signed_in, count) == expected[reader], reader
            tokens.setdefault(reader, set()).add(token)
            assert "Ann Anders" not in page.text and "ann@example.com" not in page.text
            fragment = readers[reader].get(path, headers=HTMX)
            assert fragment.status_code == 200 and "\x00" not in fragment.text and "<html" not in fragment.text
    assert _cache_field(caplog, path) == ["miss", "miss"] + ["hit"] * 16  # the page, then the fragment
    assert sum(map(len, tokens.values())) == len(set().union(*tokens.values()))  # no reader got another's
    # Each token handed out with the shared copy is its reader's own: only its reader logs out with it.
    ann_token, bob_token = tokens["ann"].pop(), tokens["bob"].pop()
    assert post(readers["bob"], "/logout", token=ann_token).status_code == 400
    for reader, token in (("ann", ann_token), ("bob", bob_token)):
        assert post(readers[reader], "/logout", token=token).status_code == 302
        assert _header(readers[reader].get(path))[:2] == (False, None)


def test_a_signed_in_readers_hit_reads_nothing_from_the_database(app, world, make_user, queries, caplog):
    user = make_user()
    reader = _signed_in(app, user, 1, world)
    reader.get(_page(world))  # the copy, and the reader's parts kept under the generation it was made in
    caplog.set_level(logging.INFO, logger="shopapp.request")
    for path in PAGES.values():  # the header's parts are the layout's: kept once, served on every page
        reader.get(path(world))
    queries.clear()
    for path in PAGES.values():
        assert _header(reader.get(path(world)))[:2] == (True, 1)
    assert queries == []  # neither the page's reads nor the session's user or the cart's count
    assert f"user_id={user.id} cache=hit" in caplog.records[-1].getMessage()  # the log still names the reader


def test_a_readers_kept_parts_follow_every_write(app, world, make_user):
    """The parts are kept under the copies' generation: a change anywhere, in any session, renders them again."""
    user = make_user()
    reader, elsewhere = _signed_in(app, user, 1, world), _signed_in(app, user, 0, world)
    path = _page(world)
    assert _header(reader.get(path))[:2] == (True, 1)
    assert _header(reader.get(path))[:2] == (True, 1)
    added = post(elsewhere, "/cart/add", {"product_id": world.product.id, "quantity": 2}, headers=HTMX)
    assert added.status_code == 200, added.text
    assert _header(reader.get(path))[:2] == (True, 3)  # the same account's cart, changed from another session
    with app.app_context():
        auth.end_all_sessions(db.session.get(User, user.id))  # "log out everywhere", a password reset
        db.session.commit()
    assert _header(reader.get(path))[:2] == (False, None)
    assert _header(elsewhere.get(path))[:2] == (False, None)


def test_a_remembered_login_is_not_taken_for_an_anonymous_reader(app, world, make_user):
    """A visitor whose session ended but whose "remember me" cookie is still good is signed in again on a
    cached page, as on any other, never served the anonymous visitors' kept header."""
    app.test_client().get(_page(world))  # the anonymous visitors' parts are kept
    user = make_user()
    client = app.test_client()
    login = {"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"}
    assert post(client, "/login", login).status_code == 302
    remember = client.get_cookie("remember_token")
    assert remember is not None
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert _header(client.get(_page(world)))[:2] == (True, None)


def test_a_message_shows_to_its_reader_only_and_once(app, world, make_user):
    ann, bob = _signed_in(app, make_user(), 0, world), _signed_in(app, make_user(), 0, world)
    path = _page(world)
    bob.get(path)  # the copy is made
    added = post(ann, "/cart/add", {"product_id": world.product.id, "quantity": 1, "next": path})
    assert added.status_code == 302 and added.headers["Location"] == path
    message = "“Brass Lamp” is in your cart (1 added)."
    assert message not in bob.get(path).text
    shown = ann.get(path)
    assert message in shown.text and _header(shown)[:2] == (True, 1)
    assert message not in ann.get(path).text
    assert message not in bob.get(path).text


def test_a_visitor_logged_out_after_signing_in_sees_the_anonymous_header(app, world, make_user):
    client = _signed_in(app, make_user(), 3, world)
    path = _page(world)
    assert _header(client.get(path))[:2] == (True, 3)
    Auth(client).logout()
    page = client.get(path)
    assert _header(page)[:2] == (False, None) and "You are logged out." in page.text
    assert "You are logged out." not in client.get(path).text


def test_an_owners_view_of_their_inactive_product_is_never_stored(app, client, world):
    path = _page(world)
    client.get(path)  # an anonymous copy, ended by the write below
    assert (
        Api(client).patch(f"/products/{world.product.id}", json={"is_active": False}, as_=world.owner).status_code
        == 200
    )
    owner = _signed_in(app, world.owner, 0, world)
    notice = "Only you can see this product"
    for _ in range(2):
        assert notice in owner.get(path).text
    assert client.get(path).status_code == 404
    assert notice not in app.test_client().get(path).text


def test_an_owner_on_their_own_shop_sees_what_customers_see(app, world, make_user):
    path = f"/shops/{world.shop.id}-{world.shop.slug}"
    owner, customer = _signed_in(app, world.owner, 0, world), _signed_in(app, make_user(), 0, world)
    assert _blanked(owner.get(path)) == _blanked(customer.get(path))


def _blanked(page: TestResponse) -> str:
    """The page with its reader's CSRF token and its nonce blanked."""
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
    return page.text.replace(token, "TOKEN").replace(nonce, "NONCE")


def test_an_error_page_of_a_shared_view_has_the_readers_header(app, world, make_user):
    reader = _signed_in(app, make_user(), 2, world)
    missing = reader.get("/products/999999")
    assert missing.status_code == 404 and "\x00" not in missing.text
    assert "Log out" in missing.text and _COUNT.search(missing.text).group(1) == "2"  # type: ignore[union-attr]


def test_no_stored_copy_holds_a_readers_own_parts(app, world, make_user):
    ann = _signed_in(app, make_user(name="Ann Anders", email="ann@example.com"), 2, world)
    for path in PAGES.values():
        ann.get(path(world))
        ann.get(path(world), headers=HTMX)
    cache = app.extensions[EXTENSION]
    entries = [cache.redis.get(k) for k in cache.redis.scan_iter(cache.entry_prefix + "*")]
    assert len(entries) >= 8
    for entry in entries:
        assert b"Log out" not in entry and b"Log in" not in entry and b"cart-count" not in entry
