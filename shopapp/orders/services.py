"""Checkout and fulfilment: one order per shop in one transaction, stock taken atomically, transitions by actor.

Stock is taken with one conditional UPDATE per product (``stock >= quantity``, the row counted), so concurrent
checkouts never sell more than there is; a status changes with a conditional UPDATE too (``status IN ...``), so
two racing cancels put the stock back once. Every change of status is an ``OrderEvent``; mails are queued in
the same transaction (shopapp.mail). Services flush; the page or API edge commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from shopapp import mail
from shopapp.auth.models import User
from shopapp.core import validation
from shopapp.core.db import utcnow
from shopapp.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Problems, Refused, gathering
from shopapp.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from shopapp.core.text import like_pattern
from shopapp.extensions import db
from shopapp.orders import carts
from shopapp.orders.countries import COUNTRY_CODES
from shopapp.orders.models import (
    CANCELLED,
    DELIVERED,
    IDEMPOTENCY_KEY_MAX,
    NOTE_MAX,
    ORDER_STATUSES,
    PAID,
    PLACED,
    SHIPPED,
    Checkout,
    Order,
    OrderEvent,
    OrderItem,
    SavedAddress,
)
from shopapp.products.models import Product
from shopapp.shops import services as shops
from shopapp.shops.models import Shop

STATUSES = ORDER_STATUSES
NOT_FOUND = "No such order."
EMPTY_CART = "Your cart is empty."
KEY_REUSED = "This Idempotency-Key was used for a different request; use a new key for a new checkout."
REPLAY_WINDOW = timedelta(hours=24)
TRACKING_MAX = 200
_ZERO = Decimal("0.00")


def _line(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise Invalid("must be a string", field)
    return validation.name(value, field)


def _optional_line(value: Any, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _line(value, field)


def _country(value: Any, field: str = "country") -> str:
    if not isinstance(value, str):
        raise Invalid("must be a string", field)
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise Invalid("must be an ISO 3166-1 alpha-2 country code, such as FR or DE", field)
    return code


ADDRESS_FIELDS: validation.Rules = {
    "name": lambda v: _line(v, "name"),
    "line1": lambda v: _line(v, "line1"),
    "line2": lambda v: _optional_line(v, "line2"),
    "city": lambda v: _line(v, "city"),
    "postal_code": lambda v: _line(v, "postal_code"),
    "country": _country,
}
_ADDRESS_REQUIRED = ("name", "line1", "city", "postal_code", "country")


def _note(value: Any, field: str = "note") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("must be a string", field)
    return validation.text(value, field, NOTE_MAX) or None


def _clean_address(data: Any, problems: Problems, prefix: str = "") -> dict[str, Any]:
    """The address checked field by field; each problem names its field under ``prefix`` (``shipping_address.``)."""
    if not isinstance(data, Mapping):
        problems.add(Invalid("must be an object with name, line1, line2, city, postal_code, country", prefix[:-1]))
        return {}
    found = Problems()
    cleaned = validation.clean_fields(data, ADDRESS_FIELDS, found, required=_ADDRESS_REQUIRED)
    for problem in found.found:
        problems.add(Invalid(problem.message, f"{prefix}{problem.field}"))
    cleaned.setdefault("line2", None)
    return cleaned


# --- saved address -------------------------------------------------------------------------------


def _address_dict(row: SavedAddress) -> dict[str, str | None]:
    return {
        "name": row.name,
        "line1": row.line1,
        "line2": row.line2,
        "city": row.city,
        "postal_code": row.postal_code,
        "country": row.country,
    }


def saved_address(user: User) -> dict[str, str | None] | None:
    """The address the customer shipped to last (or saved on the account page), or None."""
    row = db.session.get(SavedAddress, user.id)
    return _address_dict(row) if row is not None else None


def _remember(user: User, address: Mapping[str, Any]) -> SavedAddress:
    row = db.session.get(SavedAddress, user.id)
    if row is None:
        row = SavedAddress(user_id=user.id, **address)
        db.session.add(row)
    else:
        for key, value in address.items():
            setattr(row, key, value)
    return row


def save_address(user: User, address: Mapping[str, Any]) -> dict[str, str | None]:
    """Check and keep the customer's address (Invalid naming each field otherwise)."""
    with gathering() as problems:
        cleaned = _clean_address(address, problems)
    row = _remember(user, cleaned)
    db.session.flush()
    return _address_dict(row)


# --- checkout ------------------------------------------------------------------------------------


@dataclass
class CheckoutResult:
    orders: list[Order]
    total: Decimal
    replayed: bool


def request_hash(body: Mapping[str, Any]) -> str:
    """The same JSON value, whatever its key order or white space, hashes the same."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clean_checkout(body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, Decimal | None]:
    with gathering() as problems:
        unknown = set(body) - {"shipping_address", "note", "expected_total"}
        for key in sorted(unknown):
            problems.add(Invalid("is not a field you can set", key))
        if "shipping_address" not in body:
            problems.add(Invalid("is required", "shipping_address"))
            address: dict[str, Any] = {}
        else:
            address = _clean_address(body["shipping_address"], problems, "shipping_address.")
        note = expected = None
        with problems.check():
            note = _note(body.get("note"))
        if body.get("expected_total") is not None:
            with problems.check():
                expected = validation.price(body["expected_total"], "expected_total")
    return address, note, expected


def _claim_key(user: User, key: str | None, digest: str) -> Checkout | CheckoutResult:
    """The new checkout's row; with a key, inserted before anything else, so that a concurrent duplicate waits
    on the unique index for this transaction, then finds it committed. A key already used answers the replay."""
    if key is not None:
        # A key older than the replay window is free again.
        db.session.execute(
            update(Checkout)
            .where(
                Checkout.buyer_id == user.id,
                Checkout.idempotency_key == key,
                Checkout.created_at < utcnow() - REPLAY_WINDOW,
            )
            .values(idempotency_key=None),
            execution_options={"synchronize_session": False},
        )
    row = Checkout(buyer_id=user.id, idempotency_key=key, request_hash=digest, total=_ZERO)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        if key is None:
            raise
        first = db.session.scalars(
            select(Checkout).where(Checkout.buyer_id == user.id, Checkout.idempotency_key == key)
        ).one()
        if first.request_hash != digest:
            raise Invalid(KEY_REUSED, "Idempotency-Key") from None
        orders = list(db.session.scalars(_with_items(select(Order).where(Order.checkout_id == first.id))))
        return CheckoutResult(orders=sorted(orders, key=lambda o: o.id), total=first.total, replayed=True)
    return row


def _order_number(order_id: int) -> str:
    """Readable and unique: ``SA`` and two check characters, then the id from 100000 on (``SA7K-100042``)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
    mixed = (order_id * 2654435761) & 0xFFFFFFFF
    return f"SA{alphabet[mixed % 32]}{alphabet[(mixed // 32) % 32]}-{100000 + order_id}"


def _expire_stock(product_ids: Sequence[int]) -> None:
    """After an UPDATE that bypassed the ORM, the products this session holds must read stock and version again
    (the version is the ORM's ``version_id_col``: a stale copy would fail its next flush)."""
    for product_id in product_ids:
        product = db.session.identity_map.get(identity_key(Product, product_id))
        if product is not None:
            db.session.expire(product, ["stock", "version", "updated_at"])


def _take_stock(lines: list[carts.CartLine]) -> list[DomainError]:
    """One conditional UPDATE per product, in id order (no deadlock between two carts); a problem for each
    product that did not have the stock any more (another checkout took it meanwhile)."""
    short: list[carts.CartLine] = []
    now = utcnow()
    live_shops = select(Shop.id).where(Shop.is_active, Shop.deleted_at.is_(None))
    for line in sorted(lines, key=lambda line: line.product.id):
        result = db.session.execute(
            update(Product)
            .where(
                Product.id == line.product.id,
                Product.stock >= line.quantity,
                Product.is_active,
                Product.deleted_at.is_(None),
                Product.shop_id.in_(live_shops),
            )
            .values(stock=Product.stock - line.quantity, version=Product.version + 1, updated_at=now),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            short.append(line)
    _expire_stock([line.product.id for line in lines])
    problems: list[DomainError] = []
    for line in short:
        reason = carts.shortage(line.product, line.quantity) or "was just sold out"
        problems.append(_item_problem(line.product.name, line.product.id, reason))
    return problems


def _item_problem(name: str, product_id: int, reason: str) -> Conflict:
    return Conflict(f"{name}: {reason}.", f"items.{product_id}")


def checkout(user: User, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> CheckoutResult:
    """Place the caller's cart: one order per shop, in one transaction, or nothing at all.

    ``body`` is ``{"shipping_address": {...}, "note"?: str | None, "expected_total"?: str}``. Invalid values are
    Invalid/Refused (422, each field named); an empty cart is Invalid; items no longer sold or short of stock are
    a Refused of Conflicts naming ``items.<product_id>`` (409); an ``expected_total`` other than the cart's total
    is a Conflict. With ``idempotency_key``, a retry of the same body answers the first checkout again
    (``replayed``), a different body is Invalid; a refusal stores nothing, so the key may be tried again.
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
        raise Invalid(f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters", "Idempotency-Key")
    address, note, expected = _clean_checkout(body)
    # A savepoint: a refusal leaves nothing behind, even for a caller who goes on with the transaction.
    with db.session.begin_nested():
        claimed = _claim_key(user, idempotency_key, request_hash(body))
        if isinstance(claimed, CheckoutResult):
            return claimed
        result = _place(user, claimed, address, note, expected)
    return result


def _place(
    user: User, row: Checkout, address: dict[str, Any], note: str | None, expected: Decimal | None
) -> CheckoutResult:
    holder = carts.holder_for(user, None)
    cart = carts.get_cart(holder)
    if not cart.lines:
        raise Invalid(EMPTY_CART, "items")
    unavailable = [
        _item_problem(line.product.name, line.product.id, line.reason or carts.NO_LONGER_SOLD)
        for line in cart.lines
        if not line.available
    ]
    if unavailable:
        raise Refused(unavailable)  # type: ignore[arg-type]
    if expected is not None and expected != cart.total:
        raise Conflict(
            f"The total is now {cart.total:.2f} {cart.currency}, not {expected:.2f}: review the cart and confirm"
            " again.",
            "expected_total",
        )
    if problems := _take_stock(cart.lines):
        raise Refused(problems)
    currency = cart.currency
    orders: list[Order] = []
    for group in cart.groups:
        order = Order(
            number=carts.new_token()[:16],  # replaced by the readable number once the id is known
            checkout_id=row.id,
            buyer_id=user.id,
            shop_id=group.shop.id,
            status=PLACED,
            subtotal=group.subtotal,
            shipping_fee=group.shipping_fee,
            total=group.total,
            currency=currency,
            ship_name=address["name"],
            ship_line1=address["line1"],
            ship_line2=address.get("line2"),
            ship_city=address["city"],
            ship_postal_code=address["postal_code"],
            ship_country=address["country"],
            buyer_email=user.email,
            buyer_name=user.name,
            note=note,
        )
        order.items = [
            OrderItem(
                product_id=line.product.id,
                name=line.product.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in group.lines
        ]
        order.events = [OrderEvent(from_status=None, to_status=PLACED, actor_id=user.id)]
        db.session.add(order)
        orders.append(order)
    db.session.flush()
    for order in orders:
        order.number = _order_number(order.id)
    row.total = cart.total
    _remember(user, address)
    assert cart.cart_id is not None  # the cart has lines
    carts.empty(cart.cart_id)
    db.session.flush()
    _mail_placed(user, orders, cart.total, currency)
    return CheckoutResult(orders=orders, total=cart.total, replayed=False)


def _mail_placed(user: User, orders: list[Order], total: Decimal, currency: str) -> None:
    numbers = ", ".join(order.number for order in orders)
    mail.queue(
        user.email,
        f"Your order {numbers}" if len(orders) == 1 else f"Your orders {numbers}",
        "order_placed",
        buyer=user,
        orders=orders,
        total=total,
        currency=currency,
    )
    # The shops' owners in one query (the shops came with the cart's lines), not one each.
    owner_ids = {order.shop.owner_id for order in orders}
    owners = {owner.id: owner for owner in db.session.scalars(select(User).where(User.id.in_(owner_ids)))}
    for order in orders:
        owner = owners[order.shop.owner_id]
        mail.queue(owner.email, f"New order {order.number} at {order.shop.name}", "new_order", order=order, owner=owner)


# --- reading orders ------------------------------------------------------------------------------


def _with_items(stmt: Select[Any]) -> Select[Any]:
    """Orders as a list shows them: with their shop and lines (two queries in all, whatever the page size)."""
    return stmt.options(joinedload(Order.shop), selectinload(Order.items))


def _with_details(stmt: Select[Any]) -> Select[Any]:
    """One order's page: its lines and its history too, with who made each step."""
    return _with_items(stmt).options(selectinload(Order.events).joinedload(OrderEvent.actor))


def _load(order_id: int) -> Order | None:
    stmt = _with_details(select(Order).where(Order.id == order_id)).execution_options(populate_existing=True)
    return db.session.scalars(stmt).one_or_none()


def _sees(user: User, order: Order) -> bool:
    return order.buyer_id == user.id or order.shop.owner_id == user.id


def get_order(user: User, order_id: int) -> Order:
    """The order for its buyer or its shop's owner, with items and events loaded; NotFound for anyone else."""
    order = _load(order_id)
    if order is None or not _sees(user, order):
        raise NotFound(NOT_FOUND)
    return order


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise Invalid(f"must be one of {', '.join(STATUSES)}", "status")


def list_buyer_orders(
    user: User, *, status: str | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[Order]:
    """The caller's orders as a buyer, newest first."""
    _check_status(status)
    stmt = select(Order).where(Order.buyer_id == user.id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return paginate(_with_items(stmt.order_by(Order.created_at.desc(), Order.id.desc())), page, per_page)


def shop_orders_query(user: User, shop_id: int, status: str | None = None, q: str | None = None) -> Select[Any]:
    """The statement of ``list_shop_orders`` (newest first), its checks made at once."""
    shops.get_owned_shop(user, shop_id)  # Forbidden for another owner's live shop; NotFound once deleted
    _check_status(status)
    stmt = select(Order).where(Order.shop_id == shop_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if q and q.strip():
        stmt = stmt.where(
            or_(func.upper(Order.number) == q.strip().upper(), Order.buyer_email.ilike(like_pattern(q), escape="\\"))
        )
    return stmt.order_by(Order.created_at.desc(), Order.id.desc())


def list_shop_orders(
    user: User,
    shop_id: int,
    *,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[Order]:
    """A shop's orders for its owner, newest first; ``q`` is an order number (any case) or part of the buyer's
    email. Forbidden for another owner's live shop, NotFound for one the caller cannot see and for a deleted
    one (restore the shop to see its orders again; each order stays readable by its id)."""
    return paginate(_with_items(shop_orders_query(user, shop_id, status, q)), page, per_page)


def status_counts(user: User, shop_id: int) -> dict[str, int]:
    """How many of the shop's orders are in each status, 0 included (the dashboard's counts)."""
    return status_counts_by_shop([shops.get_owned_shop(user, shop_id).id])[shop_id]


def status_counts_by_shop(shop_ids: list[int]) -> dict[int, dict[str, int]]:
    """``status_counts`` of each of these shops (the caller's own: the caller checked), in one grouped query."""
    rows = db.session.execute(
        select(Order.shop_id, Order.status, func.count())
        .where(Order.shop_id.in_(shop_ids))
        .group_by(Order.shop_id, Order.status)
    ).all()
    counts = {shop_id: dict.fromkeys(STATUSES, 0) for shop_id in shop_ids}
    for shop_id, status, count in rows:
        counts[shop_id][status] = count
    return counts


# --- transitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    name: str
    to: str
    owner_from: tuple[str, ...]
    buyer_from: tuple[str, ...]  # empty: the buyer may not (Forbidden)
    stamp: str
    words: str  # "This order is shipped; it cannot be {words}."


TRANSITIONS = {
    "mark_paid": _Transition("mark_paid", PAID, (PLACED,), (), "paid_at", "marked paid"),
    "ship": _Transition("ship", SHIPPED, (PAID,), (), "shipped_at", "shipped"),
    "deliver": _Transition("deliver", DELIVERED, (SHIPPED,), (), "delivered_at", "marked delivered"),
    "cancel": _Transition("cancel", CANCELLED, (PLACED, PAID), (PLACED,), "cancelled_at", "cancelled"),
}


def _is_owner(user: User, order: Order) -> bool:
    return order.shop.owner_id == user.id


def _allowed_from(user: User, order: Order, transition: _Transition) -> tuple[str, ...]:
    """The statuses ``user`` may move ``order`` from by ``transition``; NotFound / Forbidden as the actor is."""
    if not _sees(user, order):
        raise NotFound(NOT_FOUND)
    if _is_owner(user, order):
        return transition.owner_from
    if not transition.buyer_from:
        raise Forbidden("Only the shop's owner can do this.")
    return transition.buyer_from


def _refusal(status: str, transition: _Transition) -> Conflict:
    return Conflict(f"This order is {status}; it cannot be {transition.words}.", "status")


def _move(user: User, order_id: int, name: str, *, note: str | None = None, **values: Any) -> Order:
    transition = TRANSITIONS[name]
    order = _load(order_id)
    if order is None:
        raise NotFound(NOT_FOUND)
    allowed = _allowed_from(user, order, transition)
    now = utcnow()
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(allowed))
        .values(status=transition.to, updated_at=now, **{transition.stamp: now}, **values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = db.session.scalar(select(Order.status).where(Order.id == order.id))
        raise _refusal(current or order.status, transition)
    # The row was locked by the UPDATE until the commit: what it moved from is the status read before it, unless
    # another transaction changed it meanwhile; the event records the status this one saw it leave.
    previous = order.status if order.status in allowed else allowed[0]
    event = OrderEvent(order_id=order.id, from_status=previous, to_status=transition.to, actor_id=user.id, note=note)
    db.session.add(event)
    if transition.to == CANCELLED:
        _restore_stock(order)
    db.session.flush()
    fresh = _load(order.id)
    assert fresh is not None
    return fresh


def _restore_stock(order: Order) -> None:
    now = utcnow()
    for item in sorted(order.items, key=lambda item: item.product_id):
        db.session.execute(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + item.quantity, version=Product.version + 1, updated_at=now),
            execution_options={"synchronize_session": False},
        )
    _expire_stock([item.product_id for item in order.items])


def cancel(user: User, order_id: int, reason: str | None = None) -> Order:
    """The buyer while ``placed``, the shop's owner while ``placed`` or ``paid``; the stock goes back."""
    reason = _note(reason, "reason")
    order = _move(user, order_id, "cancel", note=reason, cancel_reason=reason)
    mail.queue(order.buyer_email, f"Order {order.number} was cancelled", "order_cancelled", order=order)
    return order


def mark_paid(user: User, order_id: int) -> Order:
    """The shop's owner records the payment (bank transfer, cash on delivery) of a ``placed`` order."""
    return _move(user, order_id, "mark_paid")


def ship(user: User, order_id: int, tracking_number: str | None = None) -> Order:
    """The shop's owner ships a ``paid`` order, with an optional tracking number; the buyer gets a mail."""
    tracking = None
    if tracking_number is not None:
        if not isinstance(tracking_number, str):
            raise Invalid("must be a string", "tracking_number")
        tracking = validation.text(tracking_number, "tracking_number", TRACKING_MAX) or None
    order = _move(user, order_id, "ship", note=tracking, tracking_number=tracking)
    mail.queue(order.buyer_email, f"Order {order.number} is on its way", "order_shipped", order=order)
    return order


def deliver(user: User, order_id: int) -> Order:
    """The shop's owner marks a ``shipped`` order delivered."""
    return _move(user, order_id, "deliver")


def allowed_transitions(user: User, order: Order) -> list[str]:
    """What ``user`` may do to ``order`` now (for its buttons): names of ``TRANSITIONS``, in their order."""
    owner = _is_owner(user, order)
    buyer = order.buyer_id == user.id
    return [
        name
        for name, transition in TRANSITIONS.items()
        if (owner and order.status in transition.owner_from) or (buyer and order.status in transition.buyer_from)
    ]
