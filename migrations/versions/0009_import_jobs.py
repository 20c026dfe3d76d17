"""Product imports run as jobs (shopapp/jobs/): the step queued or running, its attempts and its last error.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("product_imports", sa.Column("job_step", sa.String(length=20), nullable=True))
    op.add_column("product_imports", sa.Column("job_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("product_imports", sa.Column("job_attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("product_imports", sa.Column("job_error", sa.Text(), nullable=True))


def downgrade() -> None:
    for column in ("job_error", "job_attempts", "job_started_at", "job_step"):
        op.drop_column("product_imports", column)
