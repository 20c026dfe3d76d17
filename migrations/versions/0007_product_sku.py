"""Products: an optional SKU, unique among a shop's live products whatever its case.

A partial unique index over ``(lower(sku), shop_id)`` where the product is not deleted and has a SKU: both
SQLite and PostgreSQL take partial expression indexes, so one index backs the services' check under races on
either. ``lower(sku)`` leads so that a look-up by SKU across shops (the catalog's search, the owner's filter)
uses it too.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LIVE_SKU = sa.text("deleted_at IS NULL AND sku IS NOT NULL")


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (no batch copy of the table: SQLite would drop the search triggers of
    # migrations 0002 and 0003 with it).
    op.add_column("products", sa.Column("sku", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_products_sku_shop_live",
        "products",
        [sa.text("lower(sku)"), "shop_id"],
        unique=True,
        sqlite_where=_LIVE_SKU,
        postgresql_where=_LIVE_SKU,
    )


def downgrade() -> None:
    op.drop_index("uq_products_sku_shop_live", table_name="products")
    op.drop_column("products", "sku")
