"""Real concurrent transactions on PostgreSQL: the database, not luck, keeps the data right."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.auth.tokens import issue_access_token
from shopapp.core.errors import Conflict
from shopapp.extensions import db
from shopapp.products import services as products
from shopapp.products.models import Product
from tests.conftest import DEFAULT_PASSWORD
from tests.pages.conftest import csrf_token, post

pytestmark = pytest.mark.postgres_only


def at_once(jobs: list[Callable[[], str]]) -> list[str]:
    """Run each job in a thread of its own, all released together; what each returned."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [""] * len(jobs)

    def worker(index: int, job: Callable[[], str]) -> None:
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as exc:
            outcomes[index] = f"error: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def run_at_once(app, jobs: list[Callable[[], object]]) -> list[str]:
    """Run each job at once with the others, in its own app context and transaction; their outcomes."""

    def in_transaction(job: Callable[[], object]) -> Callable[[], str]:
        def run() -> str:
            with app.app_context():
                try:
                    job()
                    db.session.commit()
                    return "ok"
                except Conflict:
                    db.session.rollback()
                    return "conflict"
                except Exception as exc:
                    db.session.rollback()
                    return f"error: {type(exc).__name__}: {exc}"

        return run

    return at_once([in_transaction(job) for job in jobs])


def test_twenty_simultaneous_registrations_of_one_email_make_one_account(app, row_count):
    emails = ["a@x.com" if n % 2 else "A@X.com" for n in range(20)]
    jobs = [lambda e=e: auth.register(e, "a good password", "Racer") for e in emails]
    outcomes = Counter(run_at_once(app, jobs))
    assert outcomes == Counter({"ok": 1, "conflict": 19})
    assert row_count(User) == 1


def test_fifty_simultaneous_stock_adjustments_never_go_negative_or_get_lost(app, make_product, fresh):
    product = make_product(stock=20)
    owner_id, product_id = product.shop.owner_id, product.id
    deltas = [-1] * 40 + [+1] * 10

    def adjust(delta: int) -> None:
        products.adjust_stock(db.session.get(User, owner_id), product_id, delta)

    outcomes = run_at_once(app, [lambda d=d: adjust(d) for d in deltas])
    assert set(outcomes) <= {"ok", "conflict"}, Counter(outcomes)
    accepted = [delta for delta, outcome in zip(deltas, outcomes, strict=True) if outcome == "ok"]
    stored = fresh(Product, product_id)
    # No update lost: the stock is exactly the start plus every accepted delta, and never went below 0.
    assert stored.stock == 20 + sum(accepted) >= 0
    assert stored.version == 1 + len(accepted)
    # Only decrements are ever refused, and only because the stock had run out.
    assert all(delta == -1 for delta, outcome in zip(deltas, outcomes, strict=True) if outcome == "conflict")
    assert len(accepted) >= 30


def over_http(app, requests: list[Callable[[FlaskClient], TestResponse]]) -> list[int]:
    """Send each request at once with the others, from its own thread and client; their statuses."""
    outcomes = at_once([lambda send=send: str(send(app.test_client()).status_code) for send in requests])
    assert all(outcome.isdigit() for outcome in outcomes), Counter(outcomes)
    return [int(outcome) for outcome in outcomes]


def test_twenty_simultaneous_api_registrations_answer_one_201_and_nineteen_409(app, row_count):
    body = {"password": "a good password", "name": "Racer"}
    bodies = [{**body, "email": "a@x.com" if n % 2 else "A@X.com"} for n in range(20)]
    statuses = over_http(app, [lambda c, b=b: c.post("/api/v1/users/register", json=b) for b in bodies])
    assert Counter(statuses) == Counter({201: 1, 409: 19})
    assert row_count(User) == 1


def test_fifty_simultaneous_api_stock_adjustments_are_atomic(app, make_product, fresh):
    product = make_product(stock=20)
    product_id = product.id
    headers = _token_headers(app, product.shop.owner)
    deltas = [-1] * 40 + [+1] * 10
    url = f"/api/v1/products/{product_id}/stock"
    statuses = over_http(app, [lambda c, d=d: c.post(url, json={"delta": d}, headers=headers) for d in deltas])
    assert set(statuses) <= {200, 409}, Counter(statuses)
    accepted = sum(delta for delta, status in zip(deltas, statuses, strict=True) if status == 200)
    assert fresh(Product, product_id).stock == 20 + accepted >= 0
    assert all(delta == -1 for delta, status in zip(deltas, statuses, strict=True) if status == 409)


def _token_headers(app, user: User) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {"Authorization": f"Bearer {issue_access_token(user).access_token}"}


def test_twenty_simultaneous_deletes_then_restores_of_one_product_answer_one_success_each(app, make_product, fresh):
    product = make_product(stock=5)
    product_id, headers = product.id, _token_headers(app, product.shop.owner)
    url = f"/api/v1/products/{product_id}"
    deletes = over_http(app, [lambda c: c.delete(url, headers=headers)] * 20)
    assert Counter(deletes) == Counter({204: 1, 404: 19})
    restores = over_http(app, [lambda c: c.post(url + "/restore", headers=headers)] * 20)
    assert Counter(restores) == Counter({200: 1, 409: 19})  # the others find it restored: "not deleted"
    mixed = over_http(
        app, [lambda c: c.delete(url, headers=headers), lambda c: c.post(url + "/restore", headers=headers)] * 10
    )
    assert set(mixed) <= {200, 204, 404, 409}, Counter(mixed)
    assert fresh(Product, product_id).stock == 5


def test_deletes_racing_stock_changes_never_fail_and_lose_nothing(app, make_product, fresh):
    """A delete (API or dashboard) meeting a stock change used to read a version the change had moved on: 500."""
    product = make_product(stock=50)
    owner, product_id = product.shop.owner, product.id
    headers = _token_headers(app, owner)
    pages = []
    for _ in range(3):
        page = app.test_client()
        login = post(page, "/login", {"email": owner.email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 302
        token = csrf_token(page)
        pages.append((page, token))
    url = f"/api/v1/products/{product_id}"
    stock = [lambda c: c.post(url + "/stock", json={"delta": -1}, headers=headers)] * 12
    api_delete = [lambda c: c.delete(url, headers=headers)] * 2
    restore = [lambda c: c.post(url + "/restore", headers=headers)] * 3

    def page_delete(page, token):
        return lambda _: page.post(f"/dashboard/products/{product_id}/delete", data={"csrf_token": token})

    statuses = over_http(app, stock + api_delete + restore + [page_delete(*p) for p in pages])
    assert set(statuses) <= {200, 204, 302, 404, 409}, Counter(statuses)
    taken = statuses[:12].count(200)
    assert fresh(Product, product_id).stock == 50 - taken


def test_twenty_simultaneous_patches_without_if_match_all_succeed_and_the_last_write_wins(app, make_product, fresh):
    product = make_product(stock=1, price="1.00")
    product_id, headers = product.id, _token_headers(app, product.shop.owner)
    url = f"/api/v1/products/{product_id}"
    prices = [f"{n}.00" for n in range(2, 22)]
    statuses = over_http(app, [lambda c, p=p: c.patch(url, json={"price": p}, headers=headers) for p in prices])
    assert Counter(statuses) == Counter({200: 20})
    stored = fresh(Product, product_id)
    assert f"{stored.price}" in prices and stored.version == 1 + 20
    stale = over_http(
        app, [lambda c: c.patch(url, json={"stock": 3}, headers={**headers, "If-Match": f'"{product_id}-1"'})] * 5
    )
    assert Counter(stale) == Counter({412: 5})
