"""Carts, checkouts and the orders they place: one order per shop, its lines snapshots of what was bought."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopapp.auth.models import User
from shopapp.core.db import Model, Money, TimestampMixin, UTCDateTime, utcnow
from shopapp.products.models import Product
from shopapp.shops.models import Shop

PLACED, PAID, SHIPPED, DELIVERED, CANCELLED = "placed", "paid", "shipped", "delivered", "cancelled"
ORDER_STATUSES = (PLACED, PAID, SHIPPED, DELIVERED, CANCELLED)
MAX_QUANTITY = 99
NUMBER_MAX = 20
TOKEN_MAX = 64
IDEMPOTENCY_KEY_MAX = 255
NOTE_MAX = 2000


class Cart(TimestampMixin, Model):
    """A signed-in customer's cart (``user_id``) or an anonymous visitor's (``token``, kept in the session)."""

    __tablename__ = "carts"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (token IS NULL)", name="one_holder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str | None] = mapped_column(String(TOKEN_MAX), unique=True)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Cart {self.id} user={self.user_id}>"


class CartItem(Model):
    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity_range"),)

    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    def __repr__(self) -> str:
        return f"<CartItem cart={self.cart_id} product={self.product_id} x{self.quantity}>"


class Checkout(Model):
    """One placed checkout: the orders it made point here. With an ``Idempotency-Key`` the row is inserted first,
    so a concurrent retry with the same key waits on the unique index, then answers with these orders."""

    __tablename__ = "checkouts"
    __table_args__ = (UniqueConstraint("buyer_id", "idempotency_key", name="uq_checkouts_buyer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical JSON body
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", order_by="Order.id")

    def __repr__(self) -> str:
        return f"<Checkout {self.id} buyer={self.buyer_id}>"


class Order(Model):
    """What one shop sells one buyer in one checkout. The buyer's name, email and address are copies taken at
    placement, so the order reads the same whatever the account becomes."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in ORDER_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(NUMBER_MAX), unique=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id", ondelete="RESTRICT"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=PLACED)
    subtotal: Mapped[Decimal] = mapped_column(Money)
    shipping_fee: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    ship_name: Mapped[str] = mapped_column(String(200))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str] = mapped_column(String(200))
    ship_postal_code: Mapped[str] = mapped_column(String(200))
    ship_country: Mapped[str] = mapped_column(String(2))
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    tracking_number: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    buyer: Mapped[User] = relationship()
    shop: Mapped[Shop] = relationship()
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id")

    @property
    def shipping_address(self) -> dict[str, str | None]:
        return {
            "name": self.ship_name,
            "line1": self.ship_line1,
            "line2": self.ship_line2,
            "city": self.ship_city,
            "postal_code": self.ship_postal_code,
            "country": self.ship_country,
        }

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.number!r} {self.status}>"


# A shop's orders by status, newest first (a backward scan serves the descending order); a buyer's, newest first.
Index("ix_orders_shop_status_created", Order.shop_id, Order.status, Order.created_at, Order.id)
Index("ix_orders_shop_created", Order.shop_id, Order.created_at, Order.id)
Index("ix_orders_buyer_created", Order.buyer_id, Order.created_at, Order.id)


class OrderItem(Model):
    """A snapshot of one line: the product's name and price when it was bought."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # Products are only soft-deleted; RESTRICT keeps it so.
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<OrderItem {self.id} {self.name!r} x{self.quantity}>"


class OrderEvent(Model):
    """One step of an order's history: who moved it from which status to which, and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))  # None: the placement
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(Text)  # the tracking number, the cancel reason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<OrderEvent {self.id} {self.from_status}->{self.to_status}>"


class SavedAddress(Model):
    """The shipping address a customer used last, offered at the next checkout."""

    __tablename__ = "saved_addresses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<SavedAddress user={self.user_id}>"
