"""The shared cache of catalog reads (shopapp/core/cache/), on the test's Redis.

Every test of the suite reads through the cache (tests/conftest.py), so any read after a write
that got a stale copy fails somewhere. These test the cache itself: a repeated read does no
database work, each kind of write ends the copies, token holders' reads never touch them, per-response
values are fresh, and the app answers without Redis (signed-in readers: tests/test_cache_personal.py).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopapp.core.cache import EXTENSION, shared
from tests.api.conftest import Api
from tests.conftest import DEFAULT_PASSWORD, TEST_CACHE_URL, World, base_config
from tests.media.files import jpeg
from tests.pages.conftest import Auth, csrf_token, post

_NONCE = re.compile(r"'nonce-([^']+)'")
_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
_FORM_TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture(autouse=True)
def _redis_is_up() -> None:
    try:
        redis.Redis.from_url(TEST_CACHE_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {TEST_CACHE_URL}")


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def world(make_world, make_user) -> World:  # type: ignore[no-untyped-def]
    return make_world(
        make_user(name="Olga Owner"),
        shop="Lamp Corner",
        category="Lighting",
        product="Brass Lamp",
        in_category=True,
        price=Decimal("40.00"),
        images=0,
        deleted=False,
    )


def _generation(app: Flask) -> bytes | None:
    cache = app.extensions[EXTENSION]
    return cache.redis.get(cache.generation_key)


def _without_per_response_values(response: TestResponse) -> str:
    """The body with its CSP nonce and CSRF token blanked, which differ in every answer by design."""
    body = response.get_data(as_text=True)
    nonce = _NONCE.search(response.headers.get("Content-Security-Policy", ""))
    if nonce:
        body = body.replace(nonce.group(1), "NONCE")
    body = _FORM_TOKEN.sub('name="csrf_token" value="TOKEN"', body)  # the add-to-cart forms'
    return _TOKEN.sub('"X-CSRFToken": "TOKEN"', body)


# each anonymous read, and the name of the world's row it shows
PATHS: dict[str, tuple[Callable[[World], str], str]] = {
    "api search": (lambda w: "/api/v1/products?q=lamp", "Brass Lamp"),
    "api product": (lambda w: f"/api/v1/products/{w.product.id}", "Brass Lamp"),
    "api shops": (lambda w: "/api/v1/shops", "Lamp Corner"),
    "api category": (lambda w: f"/api/v1/categories/{w.category.id}", "Lighting"),
    "catalog page": (lambda w: "/?q=lamp", "Brass Lamp"),
    "product page": (lambda w: f"/products/{w.product.id}-{w.product.slug}", "Brass Lamp"),
    "shop page": (lambda w: f"/shops/{w.shop.id}-{w.shop.slug}", "Lamp Corner"),
    "category page": (lambda w: f"/categories/{w.category.id}-{w.category.slug}", "Lighting"),
    "shops page": (lambda w: "/shops", "Lamp Corner"),
}


@pytest.mark.parametrize("name", PATHS)
def test_a_repeated_anonymous_read_is_answered_without_the_database(client, world, queries, name):
    path, shown = PATHS[name][0](world), PATHS[name][1]
    first = client.get(path)
    assert first.status_code == 200
    assert shown in first.text
    queries.clear()
    again = client.get(path)
    assert queries == []
    assert again.status_code == 200
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert _without_per_response_values(again) == _without_per_response_values(first)
    queries.clear()
    assert client.head(path).status_code == 200 and queries == []


def _price_change(api: Api, w: World) -> None:
    assert api.patch(f"/products/{w.product.id}", as_=w.owner, json={"price": 55.5}).status_code == 200


def _stock_to_zero(api: Api, w: World) -> None:
    assert api.post(f"/products/{w.product.id}/stock", as_=w.owner, json={"delta": -5}).status_code == 200


def _product_deleted(api: Api, w: World) -> None:
    assert api.delete(f"/products/{w.product.id}", as_=w.owner).status_code == 204


def _shop_closed(api: Api, w: World) -> None:
    assert api.patch(f"/shops/{w.shop.id}", as_=w.owner, json={"is_active": False}).status_code == 200


def _category_renamed(api: Api, w: World) -> None:
    assert api.patch(f"/categories/{w.category.id}", as_=w.owner, json={"name": "Lamps"}).status_code == 200


def _image_added(api: Api, w: World) -> None:
    response = api.post(
        f"/products/{w.product.id}/upload-image",
        as_=w.owner,
        data={"image": (io.BytesIO(jpeg()), "lamp.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.text


# write, the read it must change, and what that read shows once the write is done
WRITES = {
    "price": (_price_change, "/api/v1/products?q=lamp", lambda body: '"55.50"' in body),
    "stock (one UPDATE statement)": (
        _stock_to_zero,
        "/api/v1/products?q=lamp&in_stock=true",
        lambda body: '"items":[]' in body.replace(" ", ""),
    ),
    "product deleted": (_product_deleted, "/?q=lamp", lambda body: "Brass Lamp" not in body),
    "shop closed": (_shop_closed, "/api/v1/products?q=lamp", lambda body: "Brass Lamp" not in body),
    "category renamed": (_category_renamed, "/api/v1/products?q=lamp", lambda body: '"Lamps"' in body),
    "image added": (_image_added, "/api/v1/products?q=lamp", lambda body: "/media/" in body),
}


def test_the_request_log_says_what_the_cache_did(client, world, make_user, caplog):
    caplog.set_level(logging.INFO, logger="shopapp.request")
    path = f"/products/{world.product.id}-{world.product.slug}"
    client.get(path)
    client.get(path)
    Auth(client).login(make_user())
    client.get(path)
    client.get(path, headers=Api(client).auth(make_user()))
    seen = [re.search(r"cache=(\S+)", r.getMessage()).group(1) for r in caplog.records if path in r.getMessage()]  # type: ignore[union-attr]
    assert seen == ["miss", "hit", "hit", "bypass"]


@pytest.mark.parametrize("name", WRITES)
def test_a_committed_write_ends_every_cached_copy(client, api, world, queries, name):
    write, path, shows_it = WRITES[name]
    before = client.get(path).get_data(as_text=True)
    queries.clear()
    client.get(path)
    assert queries == []  # the second read was a copy
    assert not shows_it(before)
    write(api, world)
    assert shows_it(client.get(path).get_data(as_text=True))


def test_a_write_that_rolls_back_keeps_the_copies(app, api, world):
    api.get("/products?q=lamp")
    generation = _generation(app)
    taken = api.post(
        "/products",
        as_=world.owner,
        json={"shop_id": world.shop.id, "name": "Brass Lamp", "price": 1, "stock": 1},
    )
    assert taken.status_code == 409
    assert _generation(app) == generation
    assert api.patch(f"/products/{world.product.id}", as_=world.owner, json={"stock": 7}).status_code == 200
    assert _generation(app) != generation


def test_a_lost_generation_never_brings_back_old_copies(app, client, api, world):
    """Redis restarted, or evicted the generation while copies survived: no copy made before may count as
    current again, whether the generation is lost before or after a write."""
    path = "/api/v1/products?q=lamp"
    cache = app.extensions[EXTENSION]
    cache.redis.delete(cache.generation_key)
    for _ in range(3):
        assert '"40.00"' in client.get(path).text
    for price, lost_before_the_write in ((55, False), (60, True), (65, True)):
        if lost_before_the_write:
            cache.redis.delete(cache.generation_key)
        changed = api.patch(f"/products/{world.product.id}", as_=world.owner, json={"price": price})
        assert changed.status_code == 200
        if not lost_before_the_write:
            cache.redis.delete(cache.generation_key)
        for _ in range(3):
            assert f'"{price}.00"' in client.get(path).text


def test_account_writes_keep_the_catalog_copies(app, client, api, world, queries):
    """Registrations and logouts write only to users, which no cached answer shows."""
    client.get("/api/v1/products?q=lamp")
    generation = _generation(app)
    account = {"email": "new@example.com", "password": DEFAULT_PASSWORD, "name": "New Customer"}
    assert api.post("/users/register", json=account).status_code == 201
    assert api.post("/users/logout", as_=world.owner).status_code == 204
    assert _generation(app) == generation
    queries.clear()
    assert '"Brass Lamp"' in client.get("/api/v1/products?q=lamp").text and queries == []


def test_token_holders_never_get_the_shared_copy(client, world, queries):
    api_path = f"/api/v1/products/{world.product.id}"
    client.get(api_path)
    token = Api(client).auth(world.owner)
    queries.clear()
    assert client.get(api_path, headers=token).status_code == 200 and queries


def test_a_pending_flash_message_is_shown_not_skipped(client, world, make_user):
    client.get("/")
    Auth(client).login(make_user())
    Auth(client).logout()
    assert "You are logged out." in client.get("/").get_data(as_text=True)
    assert "You are logged out." not in client.get("/").get_data(as_text=True)


def test_each_copy_gets_the_requests_own_nonce_and_a_working_csrf_token(app, world, make_user):
    """A cached page's inline script (as the JSON-LD blocks: tests/pages/test_product_page.py) keeps a per-response
    nonce."""
    app.add_url_rule(
        "/with-inline-script",
        "with_inline_script",
        shared(lambda: render_template_string('<script nonce="{{ csp_nonce() }}">go()</script>')),
    )
    user = make_user()
    answers = []
    for _ in range(3):
        visitor = app.test_client()
        script = visitor.get("/with-inline-script")
        nonce = _NONCE.search(script.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
        assert script.get_data(as_text=True) == f'<script nonce="{nonce}">go()</script>'
        token = csrf_token(visitor)
        login = visitor.post("/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 302, login.text
        answers.append((nonce, token))
    assert len(set(answers)) == 3


def test_a_fragment_and_a_page_of_one_address_are_kept_apart(client, world):
    page = client.get("/?q=lamp").get_data(as_text=True)
    fragment = client.get("/?q=lamp", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in page and "<html" not in fragment and "Brass Lamp" in fragment
    assert "<html" in client.get("/?q=lamp").get_data(as_text=True)
    assert "<html" not in client.get("/?q=lamp", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_without_redis_the_app_answers_uncached_and_fresh(
    make_app: Callable[[dict[str, Any]], Flask], database_url: str, tmp_path: Path, make_product: Any
) -> None:
    app = make_app(base_config(database_url, tmp_path, CACHE_URL="redis://127.0.0.1:9/0"))
    product = make_product(name="Brass Lamp")
    client = app.test_client()
    assert '"Brass Lamp"' in client.get("/api/v1/products?q=lamp").get_data(as_text=True)
    owner = Api(client).auth(product.shop.owner)
    renamed = client.patch(f"/api/v1/products/{product.id}", json={"name": "Brass Lantern"}, headers=owner)
    assert renamed.status_code == 200
    assert '"Brass Lantern"' in client.get("/api/v1/products?q=brass").get_data(as_text=True)
    assert post(client, "/login", {"email": "x@example.com", "password": "nope"}).status_code == 422
