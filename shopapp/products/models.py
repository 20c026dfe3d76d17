from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopapp.categories.models import Category
from shopapp.core import validation
from shopapp.core.db import Model, Money, TimestampMixin, UTCDateTime
from shopapp.shops.models import Shop

MAX_PRICE = validation.PRICE_MAX
MAX_STOCK = validation.STOCK_MAX
ALT_MAX = 300  # characters of an image's alt text
MAX_IMAGES_PER_PRODUCT = 10
LOW_STOCK = 5  # at most this many left: the owner's table marks the product "Low stock"


class Product(TimestampMixin, Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price >= 0", name="price_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The owner's stock-keeping unit: optional, unique among the shop's live products whatever its case.
    sku: Mapped[str | None] = mapped_column(String(validation.SKU_MAX))
    slug: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    price: Mapped[Decimal] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: every UPDATE checks and bumps it (SQLAlchemy's version_id_col).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    shop: Mapped[Shop] = relationship()
    category: Mapped[Category | None] = relationship()
    images: Mapped[list[ProductImage]] = relationship(back_populates="product", order_by="ProductImage.position")

    __mapper_args__ = {"version_id_col": version}

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def low_stock(self) -> bool:
        return 0 < self.stock <= LOW_STOCK


# A name is unique among the live products of a shop (deleted ones may share it), whatever its case.
Index(
    "uq_products_shop_name_live",
    Product.shop_id,
    func.lower(Product.name),
    unique=True,
    sqlite_where=Product.deleted_at.is_(None),
    postgresql_where=Product.deleted_at.is_(None),
)
# A SKU likewise, among the live products that have one. lower(sku) leads: the catalog's search and the owner's
# ``?sku=`` filter look one up across shops; the pair (and so uniqueness per shop) is the same either way.
_live_sku = Product.deleted_at.is_(None) & Product.sku.is_not(None)
Index(
    "uq_products_sku_shop_live",
    func.lower(Product.sku),
    Product.shop_id,
    unique=True,
    sqlite_where=_live_sku,
    postgresql_where=_live_sku,
)
# The catalog's common orders, over live rows only.
_live = Product.deleted_at.is_(None)
Index("ix_products_live_created", Product.created_at, Product.id, sqlite_where=_live, postgresql_where=_live)
Index("ix_products_live_price", Product.price, Product.id, sqlite_where=_live, postgresql_where=_live)
Index("ix_products_live_name", Product.name, Product.id, sqlite_where=_live, postgresql_where=_live)
# The catalog's category filter with a price range (or order), over the rows customers may see: on
# PostgreSQL the included columns let the (capped) count read the index alone, not the table.
_listed = Product.is_active & _live
Index(
    "ix_products_listed_category_price",
    Product.category_id,
    Product.price,
    Product.id,
    sqlite_where=_listed,
    postgresql_where=_listed,
    postgresql_include=["stock", "shop_id"],
)


class ProductImage(TimestampMixin, Model):
    __tablename__ = "product_images"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_non_negative"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt: Mapped[str] = mapped_column(String(ALT_MAX), default="", server_default="")
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    product: Mapped[Product] = relationship(back_populates="images")
