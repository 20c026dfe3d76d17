"""The shared cache under Redis faults (issue 12 item 3): no reader gets an answer older than the last committed write.

Two apps on one database and one Redis of the test's own stand for two app processes: one reads as an
anonymous visitor, the other takes the owner's writes. Their caches share nothing but
Redis, as processes do. ``CLIENT PAUSE … WRITE`` stalls Redis's writes while it answers reads; SIGSTOP
freezes it whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopapp.core.cache import store as cache_store
from shopapp.products.models import Product
from tests.api.conftest import Api
from tests.conftest import base_config
from tests.redis_server import OwnRedis

BUMP_TIMEOUT_S = 1.0


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, own_redis: OwnRedis) -> dict[str, Any]:
    return base_config(
        database_url, tmp_path, CACHE_URL=own_redis.url, CACHE_PREFIX="faults:", CACHE_BUMP_TIMEOUT_S=BUMP_TIMEOUT_S
    )


@pytest.fixture
def writer(make_app: Callable[[dict[str, Any]], Flask], app_config: dict[str, Any]) -> Flask:
    """One process: same settings as the other, its own cache object and connections."""
    return make_app(app_config)


@pytest.fixture
def reader(make_app: Callable[[dict[str, Any]], Flask], app_config: dict[str, Any]) -> FlaskClient:
    """The other process."""
    return make_app(app_config).test_client()


@pytest.fixture(autouse=True)
def _short_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_store, "RETRY_AFTER_FAILURE_S", 0.2)


@pytest.fixture
def product(make_product) -> Product:  # type: ignore[no-untyped-def]
    return make_product(name="Brass Lamp", price=Decimal("40.00"))


class Reads:
    """Anonymous reads of one address, each with the time it started."""

    def __init__(self, client: FlaskClient, path: str) -> None:
        self.client, self.path = client, path
        self.seen: list[tuple[float, int, str]] = []

    def once(self) -> TestResponse:
        started = time.monotonic()
        response = self.client.get(self.path)
        self.seen.append((started, response.status_code, response.get_data(as_text=True)))
        return response

    def while_running(self, action: Callable[[], TestResponse]) -> tuple[TestResponse, float]:
        """Run ``action`` in a thread, reading all the while; its answer and when it came."""
        answer: list[tuple[TestResponse, float]] = []
        thread = threading.Thread(target=lambda: answer.append((action(), time.monotonic())))
        thread.start()
        while thread.is_alive():
            self.once()
            time.sleep(0.02)
        thread.join()
        for _ in range(5):
            self.once()
        return answer[0]

    def since(self, moment: float) -> list[tuple[int, str]]:
        return [(status, body) for started, status, body in self.seen if started > moment]


class Owner:
    """The shop owner's API calls through the writer app (its token made up front)."""

    def __init__(self, writer: Flask, product: Product) -> None:
        self.client = writer.test_client()
        self.headers = Api(self.client).auth(product.shop.owner)
        self.path = f"/api/v1/products/{product.id}"

    def patch(self, **fields: Any) -> TestResponse:
        return self.client.patch(self.path, json=fields, headers=self.headers)

    def delete(self) -> TestResponse:
        return self.client.delete(self.path, headers=self.headers)


def _price(body: str) -> str:
    return body.split('"price":"', 1)[1].split('"', 1)[0] if '"price":"' in body else body[:80]


def test_a_write_during_a_write_stall_waits_for_its_bump_and_no_reader_gets_the_old_answer(
    reader: FlaskClient, writer: Flask, own_redis: OwnRedis, product: Product
) -> None:
    reads = Reads(reader, f"/api/v1/products/{product.id}")
    owner = Owner(writer, product)
    for _ in range(3):
        assert _price(reads.once().text) == "40.00"

    own_redis.pause_writes(int(BUMP_TIMEOUT_S * 1000 * 0.6))
    changed, done = reads.while_running(lambda: owner.patch(price="55.00"))
    assert changed.status_code == 200, changed.text
    later = reads.since(done)
    assert later and {_price(body) for _status, body in later} == {"55.00"}, later

    own_redis.pause_writes(int(BUMP_TIMEOUT_S * 1000 * 0.6))
    deleted, done = reads.while_running(lambda: owner.delete())
    assert deleted.status_code == 204, deleted.text
    later = reads.since(done)
    assert later and {status for status, _body in later} == {404}, later


def test_a_write_whose_bump_cannot_land_while_copies_are_served_is_refused_and_changes_nothing(
    reader: FlaskClient, writer: Flask, own_redis: OwnRedis, product: Product, fresh: Callable[..., Any]
) -> None:
    reads = Reads(reader, f"/api/v1/products/{product.id}")
    owner = Owner(writer, product)
    reads.once()
    own_redis.pause_writes(int(BUMP_TIMEOUT_S * 1000 * 2.5))
    started = time.monotonic()
    refused = owner.patch(price="55.00")
    waited = time.monotonic() - started
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json", refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert "nothing was changed" in refused.json["detail"]  # type: ignore[index]
    assert BUMP_TIMEOUT_S <= waited < BUMP_TIMEOUT_S + 1.5
    assert fresh(Product, product.id).price == Decimal("40.00")
    assert _price(reads.once().text) == "40.00"  # the truth: nothing was written

    time.sleep(BUMP_TIMEOUT_S * 1.6)  # the pause is over
    again = owner.patch(price="55.00")
    assert again.status_code == 200, again.text
    assert _price(reads.once().text) == "55.00"


def test_a_dashboard_write_refused_by_a_stalled_cache_says_so_on_a_page(
    writer: Flask, own_redis: OwnRedis, product: Product, fresh: Callable[..., Any]
) -> None:
    from tests.pages.conftest import Auth, post

    browser = writer.test_client()
    Auth(browser).login(product.shop.owner)
    own_redis.pause_writes(int(BUMP_TIMEOUT_S * 1000 * 2.5))
    page = post(
        browser,
        f"/dashboard/products/{product.id}/delete",
        {"version": str(product.version)},
    )
    assert page.status_code == 503 and int(page.headers["Retry-After"]) >= 1, page.text[:300]
    assert "try again in a few seconds" in page.get_data(as_text=True)
    assert fresh(Product, product.id).deleted_at is None


def test_a_frozen_cache_keeps_writes_working_and_no_process_serves_a_copy_it_may_have_missed(
    reader: FlaskClient, writer: Flask, own_redis: OwnRedis, product: Product
) -> None:
    reads = Reads(reader, f"/api/v1/products/{product.id}")
    owner = Owner(writer, product)
    for _ in range(3):
        assert _price(reads.once().text) == "40.00"

    own_redis.freeze()
    changed = owner.patch(price="55.00")
    assert changed.status_code == 200, changed.text
    for _ in range(3):
        assert _price(reads.once().text) == "55.00"  # answered without the cache, from the database
    own_redis.thaw()
    # Redis is back with the copy made before the write, under the generation it had: the reader saw Redis
    # fail, so it bumps before it serves any copy again, whether or not the writer has paid its own bump.
    time.sleep(0.3)
    for _ in range(3):
        assert _price(reads.once().text) == "55.00"
    assert _price(Api(writer.test_client()).get(f"/products/{product.id}").text) == "55.00"
