"""Product CSV imports: the uploaded file and its dry run's counts, and per product an applied import changed,
its previous values, so the import can be undone as one step (products/imports.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="uploaded", nullable=False),
        sa.Column("file", sa.LargeBinary(), nullable=True),
        sa.Column("created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("invalid", sa.Integer(), server_default="0", nullable=False),
        sa.Column("plan_digest", sa.String(length=64), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_product_imports_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_product_imports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_imports")),
    )
    op.create_index(op.f("ix_product_imports_shop_id"), "product_imports", ["shop_id"])
    op.create_index(op.f("ix_product_imports_user_id"), "product_imports", ["user_id"])
    op.create_table(
        "product_import_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("was_created", sa.Boolean(), nullable=False),
        sa.Column("version_after", sa.Integer(), nullable=False),
        sa.Column("prev_name", sa.String(length=200), nullable=True),
        sa.Column("prev_slug", sa.String(length=80), nullable=True),
        sa.Column("prev_description", sa.Text(), nullable=True),
        sa.Column("prev_price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("prev_stock", sa.Integer(), nullable=True),
        sa.Column("prev_category_id", sa.Integer(), nullable=True),
        sa.Column("prev_is_active", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["product_imports.id"],
            name=op.f("fk_product_import_changes_import_id_product_imports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_import_changes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prev_category_id"],
            ["categories.id"],
            name=op.f("fk_product_import_changes_prev_category_id_categories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_import_changes")),
    )
    op.create_index(op.f("ix_product_import_changes_product_id"), "product_import_changes", ["product_id"])
    op.create_index(
        "uq_product_import_changes_import_product", "product_import_changes", ["import_id", "product_id"], unique=True
    )


def downgrade() -> None:
    op.drop_table("product_import_changes")
    op.drop_table("product_imports")
