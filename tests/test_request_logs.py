"""Request logs: one structured line per request that says who did what, and never a secret.

The secrets are known to the test (two passwords, the bearer tokens, the session cookie), so
everything logged while they travel is grepped for them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from tests.api.conftest import Api
from tests.pages.conftest import post

FIRST_PASSWORD = "first secret passphrase"
SECOND_PASSWORD = "second secret passphrase"
LINE = re.compile(
    r"request_id=(?P<request_id>[0-9a-f]{32}) method=(?P<method>[A-Z]+) path=(?P<path>\S+) status=(?P<status>\d{3}) "
    r"duration_ms=(?P<duration>\d+\.\d) user_id=(?P<user_id>\S+) cache=(?P<cache>-|hit|miss|bypass)$"
)


@pytest.fixture
def logged(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every line any logger writes during the test, formatted as the app formats them."""
    lines: list[str] = []
    app_handler = logging.getLogger("shopapp").handlers[0]

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    keep = Keep()
    keep.setFormatter(app_handler.formatter)
    for f in app_handler.filters:
        keep.addFilter(f)
    watched = [logging.getLogger("shopapp"), logging.getLogger()]
    for logger in watched:
        logger.addHandler(keep)
    yield lines
    for logger in watched:
        logger.removeHandler(keep)


def test_no_password_token_or_cookie_is_ever_logged(client, logged):
    api = Api(client)
    post(client, "/register", {"name": "Lou", "email": "lou@example.com", "password": FIRST_PASSWORD})
    post(client, "/logout")
    post(client, "/login", {"email": "lou@example.com", "password": FIRST_PASSWORD, "remember": "y"})
    cookies = [client.get_cookie("session").value, client.get_cookie("remember_token").value]
    token = api.post("/users/login", json={"email": "lou@example.com", "password": FIRST_PASSWORD}).get_json()
    me = api.get("/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}).get_json()
    # A token pasted into a URL is refused, and the query string that carries it is not logged either.
    api.get("/users/me", query_string={"access_token": token["access_token"]})
    changed = post(client, "/account/password", {"current_password": FIRST_PASSWORD, "new_password": SECOND_PASSWORD})
    assert changed.status_code == 302
    second = api.post("/users/login", json={"email": "lou@example.com", "password": SECOND_PASSWORD}).get_json()
    api.get("/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})

    text = "\n".join(logged)
    for secret in (FIRST_PASSWORD, SECOND_PASSWORD, token["access_token"], second["access_token"], *cookies):
        assert secret not in text
    # The parts of a JWT are base64url: not even its payload or signature appears on its own.
    for part in token["access_token"].split("."):
        assert part not in text

    requests = [LINE.search(line) for line in logged if "shopapp.request" in line]
    assert len(requests) >= 12 and all(requests), logged
    by_path = [(m["method"], m["path"], m["status"], m["user_id"]) for m in requests if m]
    user = str(me["id"])
    assert ("GET", "/api/v1/users/me", "200", user) in by_path  # the token's user, not "-"
    assert ("GET", "/api/v1/users/me", "401", "-") in by_path
    assert ("POST", "/account/password", "302", user) in by_path
    assert len({m["request_id"] for m in requests if m}) == len(requests)
