"""Catalog listing: indexes for a category's products in a price range, and for the name order.

``(category_id, price, id)`` over active, not deleted products; on PostgreSQL it also carries
``stock`` and ``shop_id``, so the catalog's capped count of a filtered listing (category with its
descendants, price range, in stock, visible shop) is an index-only scan, and the page sorted by
price walks it in order. ``(name, id)`` over live products serves the catalog's ``name`` order,
as 0001's indexes serve ``newest`` and the price orders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LISTED = sa.text("is_active AND deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_products_listed_category_price",
        "products",
        ["category_id", "price", "id"],
        sqlite_where=_LISTED,
        postgresql_where=_LISTED,
        postgresql_include=["stock", "shop_id"],
    )
    op.create_index(
        "ix_products_live_name",
        "products",
        ["name", "id"],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_products_live_name", table_name="products")
    op.drop_index("ix_products_listed_category_price", table_name="products")
