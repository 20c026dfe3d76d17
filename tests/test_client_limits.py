"""Issue 12 item 7: limits per client address, shared by the page and API faces of each action, proxy-aware;
and a bound on how deep offset paging goes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopapp.catalog.forms import CATALOG_PER_PAGE
from shopapp.core import pagination
from shopapp.core.client_limits import action_of
from shopapp.core.errors import Invalid
from shopapp.core.pagination import MAX_ROWS_DEEP, check_page, last_page
from tests.api.conftest import assert_problem
from tests.conftest import base_config
from tests.pages.conftest import csrf_token

LIMIT = 3
LOW_LIMITS = {
    key: f"{LIMIT}/minute"
    for key in (
        "RATELIMIT_LOGIN",
        "RATELIMIT_REGISTER",
        "RATELIMIT_PASSWORD",
        "RATELIMIT_UPLOAD",
        "RATELIMIT_SEARCH",
        "RATELIMIT_WRITE",
    )
}


@pytest.fixture(params=[0, 1], ids=["direct", "behind-proxy"])
def hops(request: pytest.FixtureRequest) -> int:
    return request.param


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, hops: int) -> dict[str, Any]:
    return base_config(database_url, tmp_path, PROXY_FIX_HOPS=hops, **LOW_LIMITS)


Send = Callable[[FlaskClient, dict[str, str]], TestResponse]


def _form(url: str, data: dict[str, str]) -> Send:
    def send(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
        return client.post(url, data={"csrf_token": csrf_token(client, "/login"), **data}, headers=headers)

    return send


def _api(method: str, path: str, **kw: Any) -> Send:
    def send(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
        return client.open("/api/v1" + path, method=method, headers=headers, **kw)

    return send


def _get(url: str) -> Send:
    return lambda client, headers: client.get(url, headers=headers)


_LOGIN = {"email": "ghost@example.com", "password": "not the password"}
_REGISTER = {"email": "not an email", "password": "short", "name": "X"}
# action: its page face and its API face (the password change has a page only).
FACES: dict[str, list[Send]] = {
    "login": [_form("/login", _LOGIN), _api("POST", "/users/login", json=_LOGIN)],
    "register": [_form("/register", _REGISTER), _api("POST", "/users/register", json=_REGISTER)],
    "password": [_form("/account/password", {"current_password": "x", "new_password": "y"})],
    "upload": [_form("/dashboard/products/1/images", {}), _api("POST", "/products/1/images", data={})],
    "search": [_get("/products?q=lamp"), _api("GET", "/products?q=lamp")],
    "write": [_form("/logout", {}), _api("POST", "/shops", json={"name": "Shop"})],
}


def _from(address: str | None) -> dict[str, str]:
    return {"X-Forwarded-For": address} if address else {}


def _assert_limited(response: TestResponse) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    if response.request.path.startswith("/api/"):
        body = assert_problem(response, 429)
        assert "Too many requests from your address" in body["detail"]
    else:
        assert response.mimetype == "text/html"
        assert "Please wait a moment and try again" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", FACES)
def test_each_action_is_limited_per_address_across_its_page_and_api_faces(
    action: str, client: FlaskClient, hops: int
) -> None:
    faces = FACES[action]
    here = _from("203.0.113.7" if hops else None)
    for n in range(LIMIT):  # the page and API faces take turns: one count
        response = faces[n % len(faces)](client, here)
        assert response.status_code != 429, f"request {n + 1} of {LIMIT} refused"
    for face in faces:
        _assert_limited(face(client, here))

    if hops:  # behind a trusted proxy, another client's address has its own count
        assert faces[0](client, _from("198.51.100.9")).status_code != 429
    else:  # without one, a made-up X-Forwarded-For is ignored
        _assert_limited(faces[0](client, _from("198.51.100.9")))


@pytest.mark.parametrize("hops", [0], ids=["direct"])
def test_actions_count_apart_and_plain_reads_are_not_limited(client: FlaskClient) -> None:
    for _ in range(LIMIT):
        FACES["search"][0](client, {})
    _assert_limited(FACES["search"][1](client, {}))
    # other actions still have their whole allowance, and reads that are not searches are not counted
    for _ in range(LIMIT):
        assert FACES["write"][1](client, {}).status_code == 401
    for _ in range(2 * LIMIT):
        assert client.get("/login").status_code == 200
        assert client.get("/api/v1/products/1").status_code == 404


@pytest.mark.parametrize("hops", [0], ids=["direct"])
def test_every_write_endpoint_counts_as_some_action(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert action_of(rule.endpoint, method) is not None, (rule.rule, method)
    assert action_of("auth.login", "POST") == "login"
    assert action_of("auth.login", "GET") is None
    assert action_of("api.create_product", "POST") == "write"


# --- deep pages ------------------------------------------------------------------------------------------


def test_no_list_goes_deeper_than_max_rows_deep() -> None:
    check_page(100, 100)
    check_page(last_page(CATALOG_PER_PAGE), CATALOG_PER_PAGE)
    for page, per_page in ((101, 100), (2999, 100), (last_page(12) + 1, 12), (MAX_ROWS_DEEP + 1, 1)):
        with pytest.raises(Invalid) as refused:
            check_page(page, per_page)
        assert refused.value.field == "page"


@pytest.mark.parametrize("hops", [0], ids=["direct"])
def test_the_api_refuses_a_page_too_deep_naming_page(client: FlaskClient, make_product) -> None:  # type: ignore[no-untyped-def]
    make_product(name="Lamp")
    body = assert_problem(client.get("/api/v1/products?page=2999&per_page=100&q=lamp"), 422, "page")
    assert "at most 100" in body["errors"][0]["message"]
    assert client.get("/api/v1/products?page=100&per_page=100").status_code == 200
    assert_problem(client.get("/api/v1/shops?page=101&per_page=100"), 422, "page")


@pytest.mark.parametrize("hops", [0], ids=["direct"])
def test_a_page_too_deep_shows_the_deepest_page(client: FlaskClient, make_product) -> None:  # type: ignore[no-untyped-def]
    make_product(name="Lamp")
    response = client.get("/products?page=2999&q=lamp")
    assert response.status_code == 200
    assert f"There is no page {last_page(CATALOG_PER_PAGE)};" in response.get_data(as_text=True)


@pytest.mark.parametrize("hops", [0], ids=["direct"])
def test_the_deepest_page_says_the_list_stops_there(client, make_shop, make_product, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pagination, "MAX_ROWS_DEEP", 2 * CATALOG_PER_PAGE)  # two pages of the catalog
    shop = make_shop()
    for n in range(2 * CATALOG_PER_PAGE + 1):
        make_product(shop, name=f"Lamp {n}")
    first = client.get("/products").get_data(as_text=True)
    assert "Lists stop at page" not in first and 'rel="next"' in first
    for url in ("/products?page=2", "/products?page=9"):  # the deepest page, and one deeper shown as it
        deepest = client.get(url).get_data(as_text=True)
        assert 'aria-current="page" href="/?page=2"' in deepest
        assert 'rel="next"' not in deepest
        assert "Lists stop at page 2: narrow the search or the filters to see the rest." in deepest
