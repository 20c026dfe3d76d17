"""Catalog typo tolerance: a trigram index over product names.

The catalog search (shopapp/catalog/search/) falls back to these only when the exact
full-text search of migration 0002 finds nothing, so "lether" still finds "Leather Wallet".

PostgreSQL: the ``pg_trgm`` extension and a GIN ``gin_trgm_ops`` index on ``products.name``,
which serves the ``<<%`` (strict word similarity) operator. pg_trgm lower-cases on its own, so
the index is on the plain column. Production needs the extension available: it ships with
PostgreSQL's contrib package and is a trusted extension (PostgreSQL 13+), so the database
owner can create it without being superuser; otherwise an administrator runs
``CREATE EXTENSION pg_trgm`` before this migration. The downgrade drops the index but not the
extension: it may have been there before, and other objects may use it.

SQLite: an FTS5 external-content table over products(name) with the ``trigram`` tokenizer,
kept in sync by triggers as in 0002 and back-filled here. Like 0002's objects, both are
hidden from autogenerate by ``shopapp.schema.include_name``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:05:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_products_name_trgm ON products USING gin (name gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = ("DROP INDEX ix_products_name_trgm",)

_TRGM_INSERT = "INSERT INTO product_trgm (rowid, name) VALUES (new.id, new.name);"
_TRGM_DELETE = "INSERT INTO product_trgm (product_trgm, rowid, name) VALUES ('delete', old.id, old.name);"
SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE product_trgm USING fts5(name, content='products', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER product_trgm_insert AFTER INSERT ON products BEGIN {_TRGM_INSERT} END",
    f"CREATE TRIGGER product_trgm_delete AFTER DELETE ON products BEGIN {_TRGM_DELETE} END",
    f"CREATE TRIGGER product_trgm_update AFTER UPDATE OF name ON products BEGIN {_TRGM_DELETE} {_TRGM_INSERT} END",
    "INSERT INTO product_trgm (product_trgm) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER product_trgm_update",
    "DROP TRIGGER product_trgm_delete",
    "DROP TRIGGER product_trgm_insert",
    "DROP TABLE product_trgm",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _run({"postgresql": POSTGRESQL_UPGRADE, "sqlite": SQLITE_UPGRADE})


def downgrade() -> None:
    _run({"postgresql": POSTGRESQL_DOWNGRADE, "sqlite": SQLITE_DOWNGRADE})
