"""The login throttle's store goes away (a Redis of this test's own, killed): sign-ins keep working, throttled.

Issue 12 item 2: with the limiter's Redis down every login was a 500, the right password too.
The ``app`` fixture fails any test that provoked a 5xx, so "never a 500" holds for every request here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shopapp.auth import throttle
from tests.conftest import DEFAULT_PASSWORD, base_config
from tests.pages.conftest import post
from tests.redis_server import OwnRedis

RETRY_SECONDS = 0.3


@pytest.fixture
def app_config(database_url, tmp_path, own_redis) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return base_config(
        database_url,
        tmp_path,
        RATELIMIT_STORAGE_URI=own_redis.url,
        LOGIN_THROTTLE_RETRY_SECONDS=RETRY_SECONDS,
    )


@pytest.fixture
def throttle_log() -> Iterator[list[logging.LogRecord]]:
    """What the throttle logs (the app's "shopapp" logger does not propagate to pytest's handler)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(throttle.__name__)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def _api_login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/users/login", json={"email": email, "password": password})


def _stores_down(app) -> bool:  # type: ignore[no-untyped-def]
    with app.app_context():  # the store is the app's
        return throttle.stores_down()


def _stored_count(own_redis: OwnRedis, email: str) -> int:
    return int(own_redis.client().get(f"LIMITS:{throttle._account_key(email)}") or 0)


def test_logins_keep_working_and_throttled_while_the_store_is_away(app, client, make_user, own_redis, throttle_log):
    user, other = make_user(email="me@example.com"), make_user(email="you@example.com")
    assert _api_login(client, user.email, "wrong password").status_code == 401
    assert _stored_count(own_redis, user.email) == 1, "the shared store holds the count while it is up"

    own_redis.kill()
    started = time.monotonic()
    assert _api_login(client, user.email, DEFAULT_PASSWORD).status_code == 200
    assert post(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
    codes = [_api_login(client, other.email, "wrong password").status_code for _ in range(10)]
    assert codes == [401] * 10, codes
    throttled = _api_login(client, other.email, DEFAULT_PASSWORD)
    assert throttled.status_code == 429 and 1 <= int(throttled.headers["Retry-After"]) <= 60
    # The page login counts in the same fallback store.
    refused = post(client.application.test_client(), "/login", {"email": other.email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 429
    elapsed = time.monotonic() - started
    assert _stores_down(app)
    warnings = [r for r in throttle_log if "unreachable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in throttle_log]
    print(f"\nstore down: 15 sign-ins in {elapsed:.2f} s, right password 200/302, wrong 10 x 401 then 429, 1 warning")

    own_redis.start()  # an empty Redis: the fallback's counts are not in it
    time.sleep(RETRY_SECONDS + 0.1)
    assert _api_login(client, other.email, DEFAULT_PASSWORD).status_code == 200, "the shared counts are used again"
    assert not _stores_down(app)
    assert _api_login(client, other.email, "wrong password").status_code == 401
    assert _stored_count(own_redis, other.email) == 1
    assert len([r for r in throttle_log if "unreachable" in r.getMessage()]) == 1
    assert [r for r in throttle_log if "answers again" in r.getMessage()]


def test_a_second_outage_warns_again_once(app, client, make_user, own_redis, throttle_log):
    user = make_user(email="me@example.com")
    for _ in range(2):
        own_redis.kill()
        for _ in range(3):
            assert _api_login(client, user.email, DEFAULT_PASSWORD).status_code == 200
        own_redis.start()
        time.sleep(RETRY_SECONDS + 0.1)
        assert _api_login(client, user.email, DEFAULT_PASSWORD).status_code == 200
    assert len([r for r in throttle_log if "unreachable" in r.getMessage()]) == 2
