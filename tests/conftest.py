"""Fixtures: a fresh app and database per test, on SQLite or on PostgreSQL.

The whole suite runs on SQLite by default. Set ``TEST_DATABASE_URL`` to a PostgreSQL
database (it is wiped) to run it there. The schema always comes from the migrations:
built once per session, then copied (SQLite) or truncated (PostgreSQL) per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from shopapp import create_app
from shopapp.config import normalize_database_url
from shopapp.core.client_limits import ACTIONS
from shopapp.extensions import db, limiter

if TYPE_CHECKING:
    from tests.live import LiveServer
    from tests.redis_server import OwnRedis

TEST_DATABASE_URL = normalize_database_url(os.environ.get("TEST_DATABASE_URL", ""))
IS_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
DEFAULT_PASSWORD = "correct horse battery"
CLIENT_LIMIT_KEYS = tuple(key for key, _ in ACTIONS.values())
TEST_CACHE_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/12")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL.rsplit('/', 1)[-1] if ON_POSTGRES else 'SQLite'}"


def base_config(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "APP_ENV": "testing",
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        # The limits per client address are far above what any test sends; tests/test_client_limits.py sets low ones.
        **{key: "100000/minute" for key in CLIENT_LIMIT_KEYS},
        "SERVER_NAME": None,
        # Every test reads through the shared cache, under its own prefix: a read after a write that
        # served a stale copy fails whichever test made it (tests/test_cache.py tests the cache itself).
        "CACHE_URL": TEST_CACHE_URL,
        "CACHE_PREFIX": f"test:{uuid.uuid4().hex}:",
        **extra,
    }


def migrate_to_head(database_url: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url, tmp_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def reset_postgres_schema(database_url: str) -> None:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The migrated schema: a SQLite file to copy, or the PostgreSQL database itself."""
    workdir = tmp_path_factory.mktemp("db")
    if ON_POSTGRES:
        try:
            reset_postgres_schema(TEST_DATABASE_URL)
        except Exception as exc:  # pragma: no cover - depends on the machine
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is not usable: {exc}", returncode=2)
        migrate_to_head(TEST_DATABASE_URL, workdir)
        return TEST_DATABASE_URL
    template = workdir / "template.db"
    migrate_to_head(f"sqlite:///{template}", workdir)
    return str(template)


def _truncate_all(database_url: str) -> None:
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """Each test starts from empty tables, whatever ran before it (the live server's tests included)."""
    if ON_POSTGRES:
        _truncate_all(database_template)
        return database_template
    path = tmp_path / "test.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override to change settings for one test module."""
    return base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Flask]:
    app = create_app(app_config)
    server_errors: list[str] = []

    def _fresh_g() -> None:
        # The fixture keeps one app context pushed, which Flask reuses for every test-client request;
        # in production each request gets a new one. Start each request with an empty ``g`` (no cached
        # current_user from an earlier request or another client).
        for key in list(vars(g)):
            delattr(g, key)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)

    @app.after_request
    def _record_5xx(response):  # type: ignore[no-untyped-def]
        from flask import request as req

        if response.status_code >= 500:
            server_errors.append(f"{req.method} {req.full_path} -> {response.status_code}")
        return response

    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    if server_errors and not request.node.get_closest_marker("allow_5xx"):
        pytest.fail("the test provoked a server error: " + "; ".join(server_errors))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


# --- factories: the same services the app uses -------------------------------------------------


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    from shopapp.auth import services as auth

    counter = iter(range(1, 10_000))

    def make(email: str | None = None, password: str = DEFAULT_PASSWORD, name: str | None = None):  # type: ignore[no-untyped-def]
        n = next(counter)
        user = auth.register(email or f"user{n}@example.com", password, name or f"User {n}")
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_shop(app: Flask, make_user):  # type: ignore[no-untyped-def]
    from shopapp.shops import services as shops

    def make(owner=None, **fields: Any):  # type: ignore[no-untyped-def]
        shop = shops.create_shop(owner or make_user(), {"name": "Test Shop", **fields})
        db.session.commit()
        return shop

    return make


@pytest.fixture
def make_category(app: Flask, make_user):  # type: ignore[no-untyped-def]
    from shopapp.categories import services as categories

    def make(owner=None, **fields: Any):  # type: ignore[no-untyped-def]
        category = categories.create_category(owner or make_user(), {"name": "Things", **fields})
        db.session.commit()
        return category

    return make


@pytest.fixture
def make_product(app: Flask, make_shop):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from shopapp.products import services as products
    from shopapp.shops.models import Shop

    counter = iter(range(1, 10_000))

    def make(shop: Shop | None = None, **fields: Any):  # type: ignore[no-untyped-def]
        shop = shop or make_shop()
        data = {"shop_id": shop.id, "name": f"Product {next(counter)}", "price": Decimal("9.99"), "stock": 5, **fields}
        product = products.create_product(shop.owner, data)
        db.session.commit()
        return product

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI a skipped test is a failure: a missing browser or database must not pass quietly."""
    outcome = yield
    report = outcome.get_result()
    if IS_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which requires every part to run: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests (concurrency, outages) are not part of the SQLite run: deselect, don't skip."""
    if ON_POSTGRES:
        return
    keep = [item for item in items if not item.get_closest_marker("postgres_only")]
    dropped = [item for item in items if item.get_closest_marker("postgres_only")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def make_hidden_twins(make_user, make_shop, make_product):  # type: ignore[no-untyped-def]
    """One visible product and the ways a product is hidden from customers, each in its own row.

    ``make(visible, inactive, deleted, in_closed_shop, in_deleted_shop)`` returns the owner and the
    soft-deleted product (to restore it).
    """
    from shopapp.products import services as products
    from shopapp.shops import services as shops

    def make(visible: str, inactive: str, deleted: str, in_closed_shop: str, in_deleted_shop: str):  # type: ignore[no-untyped-def]
        owner = make_user()
        open_shop, closed_shop, gone_shop = make_shop(owner=owner), make_shop(owner=owner), make_shop(owner=owner)
        make_product(shop=open_shop, name=visible)
        make_product(shop=open_shop, name=inactive, is_active=False)
        removed = make_product(shop=open_shop, name=deleted)
        products.delete_product(owner, removed.id)
        make_product(shop=closed_shop, name=in_closed_shop)
        make_product(shop=gone_shop, name=in_deleted_shop)
        shops.update_shop(owner, closed_shop.id, {"is_active": False})
        shops.delete_shop(owner, gone_shop.id)
        db.session.commit()
        return owner, removed

    return make


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, database_template: str) -> Iterator[LiveServer]:
    """The app over real HTTP (tests/live.py); on PostgreSQL runs it uses the test database."""
    from tests.live import serve

    with serve(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture
def no_server_errors(live_server: LiveServer) -> Iterator[None]:
    """Fail the test if the live server answered any of its requests with a 5xx."""
    live_server.server_errors.clear()
    yield
    assert not live_server.server_errors, "the test provoked a server error: " + "; ".join(live_server.server_errors)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A redis-server of the test's own (tests/redis_server.py), which it may kill, freeze or pause."""
    from tests.redis_server import OwnRedis

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Statements(list[str]):
    """The SQL statements the database was sent while ``queries.record()`` was open."""

    def reading(self, table: str) -> list[str]:
        """The statements that read from ``table`` (``FROM table`` itself, not a join to it)."""
        return [s for s in self if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s]


@pytest.fixture
def queries(app: Flask):  # type: ignore[no-untyped-def]
    """``with queries.record() as statements:`` collects what the database is sent meanwhile (indico's
    ``count_queries``), to test that a page's queries do not grow."""
    from contextlib import contextmanager

    from sqlalchemy import event

    class Recorder:
        @contextmanager
        def record(self) -> Iterator[Statements]:
            statements = Statements()

            def note(*args: Any) -> None:
                statements.append(str(args[2]))

            event.listen(db.engine, "before_cursor_execute", note)
            try:
                yield statements
            finally:
                event.remove(db.engine, "before_cursor_execute", note)

    return Recorder()
