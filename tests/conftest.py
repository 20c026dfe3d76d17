"""Fixtures: a fresh app and database per test, on SQLite or on PostgreSQL.

The whole suite runs on SQLite by default. Set ``TEST_DATABASE_URL`` to a PostgreSQL
database (it is wiped) to run it there. The schema always comes from the migrations:
built once per session, then copied (SQLite) or truncated (PostgreSQL) per test.

No app context is held for a test: each test-client request gets its own, as under a server, and
the factories and helpers open one for their own work. A test that calls the services directly
asks for ``app_ctx`` (and then makes no request).
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import pytest
from click.testing import Result
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, event, func, select, text
from werkzeug.test import TestResponse

from shopapp import create_app
from shopapp.config import normalize_database_url
from shopapp.core.client_limits import ACTIONS
from shopapp.extensions import db, limiter
from tests import speedups

if TYPE_CHECKING:
    from tests.live import LiveServer
    from tests.redis_server import OwnRedis

TEST_DATABASE_URL = normalize_database_url(os.environ.get("TEST_DATABASE_URL", ""))
IS_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
DEFAULT_PASSWORD = "correct horse battery"
CLIENT_LIMIT_KEYS = tuple(key for key, _ in ACTIONS.values())
TEST_CACHE_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/12")
T = TypeVar("T")
speedups.install()


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
        # argon2id still, at 1 MiB and one pass (~1 ms, not ~30): tests hash and verify thousands of passwords.
        # tests/test_auth_services.py checks that an app with the real settings hashes at OWASP's strength.
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "PASSWORD_HASH_TIME_COST": 1,
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


@functools.cache
def _emptying(database_url: str) -> tuple[Engine, str]:
    """One kept connection pool and the statements that empty every table and restart every sequence, as
    TRUNCATE … RESTART IDENTITY would: DELETE takes ~5 ms a test where TRUNCATE takes ~60 (it makes new files for
    each of some 25 tables), over 1 000 tests a minute and more of the suite."""
    engine = create_engine(database_url, pool_size=1, pool_pre_ping=True)
    with engine.connect() as conn:
        sequences = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"))
        restarts = [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences.scalars()]
    deletes = [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]  # noqa: S608
    return engine, "; ".join(deletes + restarts)


def _empty_tables(database_url: str) -> None:
    engine, statements = _emptying(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(statements)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """Each test starts from empty tables, whatever ran before it (the live server's tests included)."""
    if ON_POSTGRES:
        _empty_tables(database_template)
        return database_template
    path = tmp_path / "test.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override to change settings for one test module."""
    return base_config(database_url, tmp_path)


class Client(FlaskClient):
    """The test client, whose every request runs in an app context of its own, as under a server.

    Flask lends a request the app context that is already pushed, if any: its ``g`` (where
    Flask-Login keeps the user, Flask-WTF the CSRF token) and its database session would then be
    shared with the test and with every other request. So a request made inside one is refused.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        if has_app_context():
            raise RuntimeError("a test-client request inside an app context would share it: leave the context first")
        return super().open(*args, **kwargs)


class Runner(FlaskCliRunner):
    """The CLI runner, whose every command runs in an app context of its own, as under the ``flask`` command
    (whose group pushes one; ``app.cli``, which the runner invokes, does not)."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:
        with self.app.app_context():
            return super().invoke(cli, args, **kwargs)


@pytest.fixture
def make_app() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """``make_app(config)``: an app of the test's own (another process, other settings), with the test client and
    CLI runner above; its connections are closed at the end of the test."""
    apps: list[Flask] = []

    def make(config: dict[str, Any]) -> Flask:
        app = create_app(config)
        speedups.share_templates(app)
        app.test_client_class = Client
        app.test_cli_runner_class = Runner
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(
    make_app: Callable[[dict[str, Any]], Flask], app_config: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """The app, with no context pushed: requests get their own; fixtures and helpers open one for their work."""
    app = make_app(app_config)
    server_errors: list[str] = []

    @app.after_request
    def _record_5xx(response):  # type: ignore[no-untyped-def]
        from flask import request as req

        if response.status_code >= 500:
            server_errors.append(f"{req.method} {req.full_path} -> {response.status_code}")
        return response

    with app.app_context():
        limiter.reset()
    yield app
    if server_errors and not request.node.get_closest_marker("allow_5xx"):
        pytest.fail("the test provoked a server error: " + "; ".join(server_errors))


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    """An app context for the whole test, for tests that call the services and the database directly.

    Such a test makes no request (the client refuses one inside the context); the factories still
    work in contexts of their own, so what they make is committed and visible here.
    """
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def loaded(obj: T, *paths: str) -> T:
    """``obj`` as its session has it after the commit, with its columns and the relationships on ``paths``
    ("shop.owner") loaded, so that it can be read once its app context, and session, are gone."""
    db.session.refresh(obj)
    for path in paths:
        target: Any = obj
        for name in path.split("."):
            target = getattr(target, name)
    return obj


@pytest.fixture
def fresh(app: Flask) -> Callable[[type[T], Any], T | None]:
    """``fresh(Model, id)``: the row as the database has it now (None once it is gone), read in a context of its own."""

    def read(model: type[T], ident: Any) -> T | None:
        with app.app_context():
            return db.session.get(model, ident)

    return read


@pytest.fixture
def row_count(app: Flask) -> Callable[[type[Any]], int]:
    """``row_count(Model)``: how many rows its table has now, soft-deleted ones too, counted in a context of its own."""

    def count(model: type[Any]) -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model)) or 0

    return count


@pytest.fixture
def snapshot(fresh: Callable[[type[Any], Any], Any]) -> Callable[[Any], dict[str, Any]]:
    """``snapshot(obj)``: the columns of ``obj``'s row as the database has them now (to prove a refused request
    changed nothing)."""

    def columns(obj: Any) -> dict[str, Any]:
        row = fresh(type(obj), obj.id)
        assert row is not None, f"{obj!r} is gone"
        return {c.key: getattr(row, c.key) for c in type(obj).__mapper__.column_attrs}

    return columns


class Statement(NamedTuple):
    sql: str
    parameters: Any


class QueryLog(list[Statement]):
    """The statements sent to the test's database, in order; ``clear()`` starts the count again."""

    @property
    def sql(self) -> list[str]:
        return [statement.sql for statement in self]

    def reading(self, table: str) -> list[str]:
        """The statements that read from ``table`` (``FROM table`` itself, not a join to it)."""
        return [s for s in self.sql if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s]


@pytest.fixture
def queries(app: Flask) -> Iterator[QueryLog]:
    """Every SQL statement the app's engine sends from here to the end of the test: the requests', the fixtures'
    and the test's own (clear the log before the part to count)."""
    log = QueryLog()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        log.append(Statement(statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield log
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# --- factories: the same services the app uses, each in an app context of its own ---------------------
# What they return is committed and detached, with its columns loaded (and a product's shop and its owner, a
# shop's owner): read it, or pass it and its id on. What a request changes later shows in ``fresh(Model, id)``,
# not in the object.


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    from shopapp.auth import services as auth

    counter = iter(range(1, 10_000))

    def make(email: str | None = None, password: str = DEFAULT_PASSWORD, name: str | None = None):  # type: ignore[no-untyped-def]
        n = next(counter)
        with app.app_context():
            user = auth.register(email or f"user{n}@example.com", password, name or f"User {n}")
            db.session.commit()
            return loaded(user)

    return make


@pytest.fixture
def make_shop(app: Flask, make_user):  # type: ignore[no-untyped-def]
    from shopapp.shops import services as shops

    def make(owner=None, **fields: Any):  # type: ignore[no-untyped-def]
        owner = owner or make_user()
        with app.app_context():
            shop = shops.create_shop(owner, {"name": "Test Shop", **fields})
            db.session.commit()
            return loaded(shop, "owner")

    return make


@pytest.fixture
def make_category(app: Flask, make_user):  # type: ignore[no-untyped-def]
    from shopapp.categories import services as categories

    def make(owner=None, **fields: Any):  # type: ignore[no-untyped-def]
        owner = owner or make_user()
        with app.app_context():
            category = categories.create_category(owner, {"name": "Things", **fields})
            db.session.commit()
            return loaded(category)

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
        with app.app_context():
            product = products.create_product(shop.owner, data)
            db.session.commit()
            return loaded(product, "shop.owner")

    return make


@pytest.fixture
def make_image(app: Flask):  # type: ignore[no-untyped-def]
    """``make_image(product, data=None, alt=None)``: an image of the product added by its owner (a small WebP)."""
    from shopapp.media import services as media
    from tests.media.files import webp

    def make(product, data: bytes | None = None, alt: str | None = None):  # type: ignore[no-untyped-def]
        with app.app_context():
            image = media.add_image(product.shop.owner, product.id, data or webp(), alt)
            db.session.commit()
            return loaded(image)

    return make


@dataclass
class World:
    """An owner and their rows: a live shop, its product with its images, a category; and, where asked for,
    a soft-deleted shop and a soft-deleted product of the live shop."""

    owner: Any
    shop: Any
    product: Any
    category: Any
    images: list[Any]
    deleted_shop: Any
    deleted_product: Any

    @property
    def image(self) -> Any:
        return self.images[0]


@pytest.fixture
def make_world(app, make_user, make_shop, make_product, make_category, make_image):  # type: ignore[no-untyped-def]
    """``make_world(owner=None, ...)``: an owner's :class:`World`; by default A's, which the access matrices act
    on (tests/api/test_ownership.py, tests/pages/test_access_matrix.py): "A's shop" with the product "Mug" and
    one image, "A's category", and the soft-deleted "A's old shop" and "Old mug".

    ``shop``, ``product`` and ``category`` name the rows (``category=None``: none); ``in_category`` files the
    product under the category; ``images`` is how many the product has (WebPs of different sizes);
    ``deleted=False`` leaves the soft-deleted rows out; other keywords go to the product (``price=...``).
    """
    from shopapp.products import services as products
    from shopapp.shops import services as shops
    from tests.media.files import webp

    def make(  # type: ignore[no-untyped-def]
        owner=None,
        *,
        shop: str = "A's shop",
        product: str = "Mug",
        category: str | None = "A's category",
        in_category: bool = False,
        images: int = 1,
        deleted: bool = True,
        **product_fields: Any,
    ) -> World:
        owner = owner or make_user()
        live = make_shop(owner, name=shop)
        filed = make_category(owner, name=category) if category else None
        if in_category:
            product_fields["category_id"] = filed.id  # type: ignore[union-attr]
        deleted_shop = deleted_product = None
        if deleted:
            deleted_shop = make_shop(owner, name="A's old shop")
            deleted_product = make_product(live, name="Old mug")
            with app.app_context():
                shops.delete_shop(owner, deleted_shop.id)
                products.delete_product(owner, deleted_product.id)
                db.session.commit()
        item = make_product(live, name=product, **product_fields)
        pictures = [make_image(item, webp((500 - 100 * n, 500 - 200 * n))) for n in range(images)]
        return World(owner, live, item, filed, pictures, deleted_shop, deleted_product)

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
    """Tests of the other database only (PostgreSQL's concurrency and outages, SQLite's pragmas) are not part of
    this run: deselect, don't skip (nor return early, which would pass without checking anything)."""
    other = "sqlite_only" if ON_POSTGRES else "postgres_only"
    dropped = [item for item in items if item.get_closest_marker(other)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture
def make_hidden_twins(app, make_user, make_shop, make_product):  # type: ignore[no-untyped-def]
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
        with app.app_context():
            products.delete_product(owner, removed.id)
            db.session.commit()
        make_product(shop=closed_shop, name=in_closed_shop)
        make_product(shop=gone_shop, name=in_deleted_shop)
        with app.app_context():
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
