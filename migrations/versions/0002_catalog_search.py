"""Catalog full-text search over product names and descriptions.

PostgreSQL: a stored generated ``tsvector`` column plus a GIN index. Each text is indexed
twice, with the ``simple`` configuration (lower-cased words as typed) and with ``english``
(stemmed, stop words dropped). The query side ORs both per term (shopapp/catalog/search/):
``simple`` keeps every typed prefix working (``runn`` finds "Running", whose english stem is
``run``) and stop words searchable (as on SQLite), while ``english`` adds stemming
(``wallets`` finds "Wallet"). The name is weighted A, the description B.

SQLite: an FTS5 external-content table over products(name, description) (it stores only the
index; the text stays in ``products``), kept in sync by triggers, and back-filled here.

Neither lives in the models' metadata; ``shopapp.schema.include_name`` hides them
from autogenerate. Beware: a batch (copy-and-move) ALTER of ``products`` on SQLite drops the
triggers along with the old table; such a migration must create them again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 07:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

POSTGRESQL_UPGRADE = (
    """
    ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, name), 'A')
        || setweight(to_tsvector('english'::regconfig, name), 'A')
        || setweight(to_tsvector('simple'::regconfig, description), 'B')
        || setweight(to_tsvector('english'::regconfig, description), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX ix_products_search_vector",
    "ALTER TABLE products DROP COLUMN search_vector",
)

_FTS_INSERT = "INSERT INTO product_fts (rowid, name, description) VALUES (new.id, new.name, new.description);"
_FTS_DELETE = (
    "INSERT INTO product_fts (product_fts, rowid, name, description)"
    " VALUES ('delete', old.id, old.name, old.description);"
)
SQLITE_UPGRADE = (
    """
    CREATE VIRTUAL TABLE product_fts USING fts5(
        name, description,
        content='products', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    f"CREATE TRIGGER product_fts_insert AFTER INSERT ON products BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER product_fts_delete AFTER DELETE ON products BEGIN {_FTS_DELETE} END",
    # Only a change of the indexed text re-indexes the row, not every stock or price update.
    f"CREATE TRIGGER product_fts_update AFTER UPDATE OF name, description ON products"
    f" BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    "INSERT INTO product_fts (product_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER product_fts_update",
    "DROP TRIGGER product_fts_delete",
    "DROP TRIGGER product_fts_insert",
    "DROP TABLE product_fts",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _run({"postgresql": POSTGRESQL_UPGRADE, "sqlite": SQLITE_UPGRADE})


def downgrade() -> None:
    _run({"postgresql": POSTGRESQL_DOWNGRADE, "sqlite": SQLITE_DOWNGRADE})
