"""The login throttle holds across app processes that share the limiter's Redis store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
# One app process: N failed logins for an email, each from another (spoofed) client address, through
# the API or the HTML login form (CSRF is off here: the point is the store the processes share).
ONE_PROCESS = """
import json, sys
from shopapp import create_app
database_url, storage, email, attempts, via = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_STORAGE_URI": storage,
                  "LOG_LEVEL": "WARNING", "PROXY_FIX_HOPS": 1, "WTF_CSRF_ENABLED": False})
client = app.test_client()
def attempt(n):
    spoofed = {"X-Forwarded-For": f"198.51.100.{n}"}
    if via == "page":
        return client.post("/login", data={"email": email, "password": "wrong password"}, headers=spoofed)
    return client.post("/api/v1/users/login", json={"email": email, "password": "wrong password"}, headers=spoofed)
print(json.dumps([attempt(n).status_code for n in range(attempts)]))
"""


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _attempts(database_url: str, email: str, count: int, via: str = "api") -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", ONE_PROCESS, database_url, REDIS_URL, email, str(count), via],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_processes_share_one_throttle(database_url):
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    email = f"{uuid.uuid4().hex}@example.com"  # a fresh account key: no reset of a shared Redis needed
    assert _attempts(database_url, email, 5) == [401] * 5
    assert _attempts(database_url, email, 5) == [401] * 5
    assert _attempts(database_url, email, 1) == [429]


def test_api_and_page_processes_share_one_throttle(database_url):
    """The HTML login form counts in the same shared store as the API: five wrong passwords each way."""
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    email = f"{uuid.uuid4().hex}@example.com"
    assert _attempts(database_url, email, 5, via="page") == [422] * 5
    assert _attempts(database_url, email, 5, via="api") == [401] * 5
    assert _attempts(database_url, email, 1, via="page") == [429]
