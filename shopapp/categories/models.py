from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from shopapp.core.db import Model, TimestampMixin


class Category(TimestampMixin, Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")


# A name is unique among its siblings, whatever its case; roots count as siblings of each other.
Index(
    "uq_categories_parent_name",
    func.coalesce(Category.parent_id, 0),
    func.lower(Category.name),
    unique=True,
)
