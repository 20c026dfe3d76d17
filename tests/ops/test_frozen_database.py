"""Issue 12, items 1 and 4: a database that stops answering, or refuses connections, costs seconds, not hangs.

The app runs under gunicorn with production settings (gthread, the shared cache in Redis) and reaches
PostgreSQL through a TCP proxy that the test freezes: connections stay open and nothing answers, as with a
server stopped by SIGSTOP or a partition that drops packets. Bounds checked (README, Production):
``/readyz`` 503 within 2 s; ``/healthz`` and the login page within 1 s; a read or a write that needs the
database 503 with ``Retry-After`` within 5 s; everything 200 again within 10 s of the release, no restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from tests.conftest import DEFAULT_PASSWORD, base_config
from tests.ops.serve import free_port, gunicorn, production_env
from tests.ops.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres_only
FAILS_WITHIN_S = 5.0
RECOVERS_WITHIN_S = 10.0


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    with TcpProxy(url.port or 5432, url.host or "127.0.0.1") as tcp:
        yield tcp


@pytest.fixture
def served(database_url: str, proxy: TcpProxy, tmp_path: Path) -> Iterator[str]:
    through_proxy = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    env = production_env(through_proxy, tmp_path / "media")
    with gunicorn(env, "--workers", "1", "--worker-class", "gthread", "--threads", "4") as apps:
        yield apps[0][0]


def _timed(method: str, url: str, **kwargs: object) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=30, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def _assert_unavailable_problem(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 503 and "temporarily unavailable" in body["detail"]
    for leak in ("psycopg", "Traceback", "SELECT", "sqlalchemy"):
        assert leak not in response.text


def test_a_frozen_database_fails_fast_and_recovers_alone(served, proxy, make_product, fresh):
    from shopapp.products.models import Product

    product = make_product(name="Frozen Kettle")
    page_url = f"{served}/products/{product.id}-{product.slug}"
    token = requests.post(
        f"{served}/api/v1/users/login",
        json={"email": product.shop.owner.email, "password": DEFAULT_PASSWORD},
        timeout=10,
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{served}/readyz", timeout=10).status_code == 200
    assert requests.get(f"{served}/api/v1/products/{product.id}", headers=bearer, timeout=10).status_code == 200
    figures: dict[str, float] = {}

    proxy.freeze()
    try:
        ready, figures["readyz 503"] = _timed("GET", f"{served}/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert figures["readyz 503"] < 2.0

        for name, path in (("healthz", "/healthz"), ("login page", "/login"), ("static file", "/static/css/app.css")):
            answer, figures[name] = _timed("GET", served + path)
            assert answer.status_code == 200
            assert figures[name] < 1.0, f"{name} took {figures[name]:.2f} s while the database was frozen"

        # Reads that need the database: with a token (never from the shared cache), and a page never read.
        api, figures["API read 503"] = _timed("GET", f"{served}/api/v1/products/{product.id}", headers=bearer)
        _assert_unavailable_problem(api)
        page, figures["page read 503"] = _timed("GET", page_url)
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert page.headers["Content-Type"].startswith("text/html")
        assert "temporarily unavailable" in page.text and "psycopg" not in page.text
        write, figures["API write 503"] = _timed(
            "PATCH", f"{served}/api/v1/products/{product.id}", json={"price": 1.23}, headers=bearer
        )
        _assert_unavailable_problem(write)
        for name in ("API read 503", "page read 503", "API write 503"):
            assert figures[name] < FAILS_WITHIN_S, f"{name} took {figures[name]:.2f} s"
        # While frozen, a request that needs no database is still answered at once.
        assert _timed("GET", f"{served}/healthz")[1] < 1.0
    finally:
        proxy.release()

    released = time.monotonic()
    while True:
        statuses = [
            requests.get(f"{served}/readyz", timeout=10).status_code,
            requests.get(f"{served}/api/v1/products/{product.id}", headers=bearer, timeout=10).status_code,
            requests.get(page_url, timeout=10).status_code,
        ]
        if statuses == [200, 200, 200]:
            break
        assert time.monotonic() - released < RECOVERS_WITHIN_S, f"not recovered: {statuses}"
        time.sleep(0.1)
    figures["recovery"] = time.monotonic() - released

    assert fresh(Product, product.id).price == product.price, "the refused write was written"
    print("\nfrozen database:", ", ".join(f"{name} {seconds:.2f} s" for name, seconds in figures.items()))


@pytest.mark.allow_5xx
def test_api_reads_while_the_database_refuses_connections_answer_503(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Item 4: nothing listens at the database's address; the API says 503 + Retry-After, not 500."""
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/shopapp"
    app = make_app(base_config(nowhere, tmp_path, PROPAGATE_EXCEPTIONS=False, CACHE_URL=""))
    client = app.test_client()
    for path in ("/api/v1/products", "/api/v1/products/1", "/api/v1/shops", "/api/v1/categories"):
        started = time.monotonic()
        response = client.get(path)
        assert time.monotonic() - started < FAILS_WITHIN_S
        assert response.status_code == 503, (path, response.status_code)
        assert response.headers["Retry-After"] == "5"
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 503
        assert "psycopg" not in response.get_data(as_text=True)
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "temporarily unavailable" in page.get_data(as_text=True)
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
