"""Several app processes behind one proxy behave as one app (the production layout in the README).

Two gunicorn instances and a `flask worker` with production settings share the database, the secret key,
Redis (the limiter's counts, the catalog cache and the job queue) and the media directory; whatever a client
got from one must work on the other, what one changes the other shows at once, and a job one queues runs on
the worker with its progress and outcome seen through either.
Production cookies are Secure-only, so over plain http the test carries them itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import select

from shopapp.auth.throttle import MAX_FAILED_LOGINS_PER_MINUTE
from shopapp.extensions import db
from shopapp.products.models import Product
from tests.conftest import DEFAULT_PASSWORD
from tests.media.files import jpeg
from tests.ops.serve import REDIS_URL, flask_worker, gunicorn, production_env

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def two_apps(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The base URLs of two gunicorn instances of the app, with a job worker, configured as in production."""
    env = {**production_env(database_url, tmp_path / "media"), "QUEUE_URL": REDIS_URL}
    with gunicorn(env, "--workers", "1", count=2) as served, flask_worker(env, tmp_path / "worker.log"):
        yield served[0][0], served[1][0]


def _cookies(response: requests.Response) -> dict[str, str]:
    """The cookies a response sets, Secure ones included (requests keeps those for https only)."""
    return {
        name: value
        for header in response.raw.headers.getlist("Set-Cookie")
        for name, value in [header.split(";", 1)[0].split("=", 1)]
    }


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _log_in(base: str, email: str) -> dict[str, str]:
    """Sign in through the login form at ``base``: the session's cookies."""
    form = requests.get(f"{base}/login", timeout=10)
    cookies = _cookies(form)
    login = requests.post(
        f"{base}/login",
        data={"csrf_token": _csrf_token(form.text), "email": email, "password": DEFAULT_PASSWORD},
        headers=_cookie_header(cookies),
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 302, login.text
    return cookies | _cookies(login)


def test_a_session_and_a_token_from_one_process_work_on_the_other(two_apps, make_user):
    one, other = two_apps
    user = make_user()
    cookies = _log_in(one, user.email)
    account = requests.get(f"{other}/account", headers=_cookie_header(cookies), allow_redirects=False, timeout=10)
    assert account.status_code == 200 and user.email in account.text
    assert requests.get(f"{other}/account", allow_redirects=False, timeout=10).status_code == 302

    token = requests.post(
        f"{one}/api/v1/users/login", json={"email": user.email, "password": DEFAULT_PASSWORD}, timeout=10
    ).json()["access_token"]
    me = requests.get(f"{other}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == user.email


def test_an_image_uploaded_through_one_process_is_served_by_the_other(two_apps, make_product):
    one, other = two_apps
    product = make_product()
    token = requests.post(
        f"{one}/api/v1/users/login", json={"email": product.shop.owner.email, "password": DEFAULT_PASSWORD}, timeout=10
    ).json()["access_token"]
    uploaded = requests.post(
        f"{one}/api/v1/products/{product.id}/upload-image",
        files={"image": ("photo.jpg", jpeg(), "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    for url in (uploaded.json()["url"], uploaded.json()["thumbnail_url"]):
        served = requests.get(other + url, timeout=10)
        assert served.status_code == 200 and served.headers["Content-Type"].startswith("image/")


def test_the_login_throttle_counts_across_processes(two_apps, make_user):
    """Failures alternate between the two; one process alone would allow twice as many.

    tests/api/test_throttle_shared.py checks the same with two app processes without servers.
    """
    one, other = two_apps
    attempt = {"email": make_user().email, "password": "wrong password"}
    codes = [
        requests.post(f"{(one, other)[n % 2]}/api/v1/users/login", json=attempt, timeout=10).status_code
        for n in range(MAX_FAILED_LOGINS_PER_MINUTE + 1)
    ]
    assert codes == [401] * MAX_FAILED_LOGINS_PER_MINUTE + [429]


def test_a_write_through_one_process_ends_the_cached_copies_of_the_other(two_apps, make_product):
    one, other = two_apps
    product = make_product(name="Copper Kettle")
    token = requests.post(
        f"{one}/api/v1/users/login", json={"email": product.shop.owner.email, "password": DEFAULT_PASSWORD}, timeout=10
    ).json()["access_token"]
    page, api = f"{other}/products/{product.id}-{product.slug}", f"{other}/api/v1/products?q=kettle"
    before = requests.get(api, timeout=10).json()["items"][0]["price"]
    assert "Copper Kettle" in requests.get(page, timeout=10).text
    stored = redis.Redis.from_url(REDIS_URL).keys("*entry:*")
    assert len(stored) == 2, "the other process did not keep copies of its answers"
    changed = requests.patch(
        f"{one}/api/v1/products/{product.id}",
        json={"price": 12.34},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    assert requests.get(api, timeout=10).json()["items"][0]["price"] != before
    assert "12.34" in requests.get(page, timeout=10).text


def _wait_for_page(url: str, cookies: dict[str, str], done: str) -> str:
    """The page at ``url`` once it says ``done`` (a worker is running the import's step meanwhile)."""
    deadline = time.monotonic() + 60
    while True:
        response = requests.get(url, headers=_cookie_header(cookies), allow_redirects=False, timeout=10)
        cookies |= _cookies(response)  # the session keeps the CSRF token's secret once a form is rendered
        if done in response.text:
            return response.text
        assert time.monotonic() < deadline, f"{url} never said {done!r}: {response.text[-2000:]}"
        time.sleep(0.2)


def test_an_import_queued_through_one_process_runs_on_the_worker_and_shows_on_the_other(
    two_apps, app, make_user, make_shop, make_product
):
    """The owner uploads through one process; the worker runs the dry run; the other process shows its
    report and takes the Apply; the worker applies it; the first shows it applied."""
    one, other = two_apps
    shop = make_shop(make_user(email="attic@example.com"), name="Attic")
    make_product(shop, name="Mug", sku="MUG-1")
    cookies = _log_in(one, "attic@example.com")
    url = f"{one}/dashboard/shops/{shop.id}/products/import"
    form = _wait_for_page(url, cookies, 'name="csrf_token"')
    csv = "sku,name,description,price,stock,category,is_active\r\nmug-1,Big mug,,6.00,3,,true\r\n,Jug,,2.50,1,,true\r\n"
    uploaded = requests.post(
        url,
        data={"csrf_token": _csrf_token(form)},
        files={"file": ("products.csv", csv.encode(), "text/csv")},
        headers=_cookie_header(cookies),
        allow_redirects=False,
        timeout=10,
    )
    assert uploaded.status_code == 302, uploaded.text
    report = uploaded.headers["Location"]
    assert re.fullmatch(r"/dashboard/imports/\d+", report), report

    checked = _wait_for_page(f"{other}{report}/status", cookies, ">Apply</button>")
    assert re.search(r"<dt>Created</dt><dd>1</dd>\s*<dt>Updated</dt><dd>1</dd>", checked), checked
    applying = requests.post(
        f"{other}{report}/apply",
        data={"csrf_token": _csrf_token(checked)},
        headers=_cookie_header(cookies),
        allow_redirects=False,
        timeout=10,
    )
    assert applying.status_code == 302 and applying.headers["Location"] == report, applying.text
    _wait_for_page(f"{one}{report}", cookies, "<h1>Import applied</h1>")
    with app.app_context():
        stored = db.session.execute(
            select(Product.sku, Product.name, Product.price).where(Product.shop_id == shop.id).order_by(Product.id)
        )
        assert [(sku, name, str(price)) for sku, name, price in stored] == [
            ("MUG-1", "Big mug", "6.00"),
            (None, "Jug", "2.50"),
        ]
