"""The migrations build exactly the models, and go down and up again on an empty database."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from shopapp import create_app
from shopapp.catalog.query import CatalogQuery, search_catalog
from shopapp.core.db import compare_type
from shopapp.extensions import db
from shopapp.schema import include_name
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, base_config


@pytest.fixture
def empty_database_url(tmp_path):
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"shopapp_migrations_{uuid.uuid4().hex[:8]}"
    admin_url = TEST_DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# The FTS5 tables of migrations 0002 (full text) and 0003 (trigrams), and the shadow tables SQLite
# makes for each (PostgreSQL adds a column and indexes instead).
FTS5_TABLES = {
    f"{table}{shadow}"
    for table in ("product_fts", "product_trgm")
    for shadow in ("", "_data", "_idx", "_docsize", "_config")
}


def test_upgrade_downgrade_upgrade_round_trip(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, tmp_path))
    expected = {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
    if not ON_POSTGRES:
        expected |= FTS5_TABLES
    with app.app_context():
        upgrade()
        assert _tables(empty_database_url) == expected
        downgrade(revision="base")
        assert _tables(empty_database_url) <= {"alembic_version"}
        upgrade()
        assert _tables(empty_database_url) == expected
        db.engine.dispose()


def test_search_migration_indexes_the_products_already_there(empty_database_url, tmp_path):
    """0002 and 0003 back-fill: FTS5 'rebuild' on SQLite; PostgreSQL computes the generated column for every
    row and builds the trigram index over them."""
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            owner = conn.scalar(
                text("INSERT INTO users (email, name, password_hash) VALUES ('o@example.com', 'O', 'x') RETURNING id")
            )
            shop = conn.scalar(
                text("INSERT INTO shops (owner_id, name, slug) VALUES (:o, 'S', 's') RETURNING id"), {"o": owner}
            )
            conn.execute(
                text(
                    "INSERT INTO products (shop_id, name, slug, price) VALUES (:s, 'Storm Lantern', 'storm-lantern', 1)"
                ),
                {"s": shop},
            )
        upgrade()
        assert [p.name for p in search_catalog(CatalogQuery(q="lant")).items] == ["Storm Lantern"]
        assert [p.name for p in search_catalog(CatalogQuery(q="latern")).items] == ["Storm Lantern"]  # 0003's index
        db.session.remove()
        db.engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_models_match_migrations_no_drift(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            opts = {"compare_type": compare_type, "include_name": include_name}
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_expression_indexes_exist_after_migration(database_url):
    """Alembic cannot compare expression indexes, so check them by name."""
    catalog = "SELECT indexname FROM pg_indexes" if ON_POSTGRES else "SELECT name FROM sqlite_master"
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = set(conn.scalars(text(catalog)))
    finally:
        engine.dispose()
    assert {
        "uq_users_email_lower",
        "uq_categories_parent_name",
        "uq_products_shop_name_live",
        "uq_products_sku_shop_live",
    } <= names
