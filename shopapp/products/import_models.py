"""A CSV import of products (products/imports.py): the uploaded file kept between the dry run and the apply,
and, once applied, what each changed product was before, so that the import can be undone as one step."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopapp.auth.models import User
from shopapp.core import validation
from shopapp.core.db import Model, Money, TimestampMixin, UTCDateTime
from shopapp.shops.models import Shop

# An import's life: uploaded (and checked by a dry run once ``plan_digest`` is set), applying (claimed by the
# apply job, shopapp/jobs/), applied, undone. A cancelled one is deleted.
IMPORT_STATUSES = ("uploaded", "applying", "applied", "undone")


class ProductImport(TimestampMixin, Model):
    __tablename__ = "product_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="uploaded", server_default="uploaded")
    # The file as uploaded, until it is applied (then None): the dry run and the apply read it from here, so
    # any app process (or a job runner) can take the next step.
    file: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The last dry run: its counts and a digest of its plan, which the apply's own plan must match.
    created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invalid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    plan_digest: Mapped[str | None] = mapped_column(String(64))
    # Every problem of its invalid rows, as [line, column or null, message].
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The step a job is to run or runs ("dry_run", "apply"; None: none), when its last attempt started, how many
    # attempts it took (a worker killed mid-step leaves it to the next one), and the last refusal or failure.
    job_step: Mapped[str | None] = mapped_column(String(20))
    job_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    job_error: Mapped[str | None] = mapped_column(Text)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shop: Mapped[Shop] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ProductImport {self.id} shop={self.shop_id} {self.status}>"


class ProductImportChange(Model):
    """One product an applied import created or updated; for an update, its values before (``prev_*``).
    ``version_after``: the product's version the import left, so an undo sees whether it changed since."""

    __tablename__ = "product_import_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("product_imports.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    was_created: Mapped[bool] = mapped_column(Boolean)
    version_after: Mapped[int] = mapped_column(Integer)
    prev_name: Mapped[str | None] = mapped_column(String(validation.NAME_MAX))
    prev_slug: Mapped[str | None] = mapped_column(String(80))
    prev_description: Mapped[str | None] = mapped_column(Text)
    prev_price: Mapped[Decimal | None] = mapped_column(Money)
    prev_stock: Mapped[int | None] = mapped_column(Integer)
    prev_category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    prev_is_active: Mapped[bool | None] = mapped_column(Boolean)

    def __repr__(self) -> str:
        return f"<ProductImportChange {self.import_id}:{self.product_id}>"


Index("uq_product_import_changes_import_product", ProductImportChange.import_id, ProductImportChange.product_id,
      unique=True)  # fmt: skip
