"""Carts: a signed-in customer's (by user id) or an anonymous visitor's (by a token the session keeps).

A cart holds products of any shops; prices are read live from the products (an order's lines are the
snapshots). Views never commit: the page or API edge does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from shopapp.auth.models import User
from shopapp.core import validation
from shopapp.core.db import utcnow
from shopapp.core.errors import Conflict, NotFound
from shopapp.extensions import db
from shopapp.orders.models import MAX_QUANTITY, Cart, CartItem
from shopapp.products.models import Product
from shopapp.shops.models import Shop

# Where the pages keep an anonymous visitor's cart token in the session (``Holder.token``).
SESSION_KEY = "cart"
NOT_IN_CATALOG = "No such product."
NO_LONGER_SOLD = "no longer sold"
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Holder:
    """Whose cart: a user's, or an anonymous visitor's token. Neither (a visitor who has no cart yet) reads
    as an empty cart; writing to it needs a token first (``new_token``)."""

    user_id: int | None
    token: str | None


def holder_for(user: User | None, token: str | None) -> Holder:
    """The signed-in user's cart, else the visitor's by the token in the session (possibly none yet)."""
    if user is not None:
        return Holder(user.id, None)
    return Holder(None, token or None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class CartLine:
    product: Product
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    available: bool
    reason: str | None  # "no longer sold" | "only N left" | "out of stock"


@dataclass
class ShopGroup:
    shop: Shop
    lines: list[CartLine]
    subtotal: Decimal
    shipping_fee: Decimal
    total: Decimal


@dataclass
class CartView:
    cart_id: int | None  # None: no line (and maybe no cart)
    lines: list[CartLine]
    groups: list[ShopGroup]
    item_count: int
    subtotal: Decimal
    shipping: Decimal
    total: Decimal  # subtotal + every shop's fee; checkout's ``expected_total`` compares with it
    currency: str


def on_sale(product: Product) -> bool:
    """In the catalog: the product and its shop active and not deleted."""
    shop = product.shop
    return product.is_active and product.deleted_at is None and shop.is_active and shop.deleted_at is None


def shortage(product: Product, quantity: int) -> str | None:
    """Why ``quantity`` of ``product`` cannot be bought now, or None."""
    if not on_sale(product):
        return NO_LONGER_SOLD
    if product.stock < quantity:
        return "out of stock" if product.stock == 0 else f"only {product.stock} left"
    return None


def _owner_clause(holder: Holder):  # type: ignore[no-untyped-def]
    return Cart.user_id == holder.user_id if holder.user_id is not None else Cart.token == holder.token


def _has_cart(holder: Holder) -> bool:
    return holder.user_id is not None or holder.token is not None


def _lines(holder: Holder) -> list[CartItem]:
    """The cart's items with their products, shops and images: one query."""
    if not _has_cart(holder):
        return []
    stmt = (
        select(CartItem)
        .join(CartItem.cart)
        .join(CartItem.product)
        .join(Product.shop)
        .where(_owner_clause(holder))
        .options(
            contains_eager(CartItem.product).contains_eager(Product.shop),
            contains_eager(CartItem.product).joinedload(Product.images),
        )
        .order_by(CartItem.created_at, CartItem.product_id)
    )
    return list(db.session.scalars(stmt).unique())


def view_of(items: list[CartItem]) -> CartView:
    lines: list[CartLine] = []
    groups: dict[int, ShopGroup] = {}
    for item in items:
        product = item.product
        reason = shortage(product, item.quantity)
        line = CartLine(
            product=product,
            quantity=item.quantity,
            unit_price=product.price,
            line_total=product.price * item.quantity,
            available=reason is None,
            reason=reason,
        )
        lines.append(line)
        group = groups.get(product.shop_id)
        if group is None:
            fee = product.shop.shipping_fee
            group = groups[product.shop_id] = ShopGroup(product.shop, [], _ZERO, fee, fee)
        group.lines.append(line)
        group.subtotal += line.line_total
        group.total += line.line_total
    subtotal = sum((line.line_total for line in lines), _ZERO)
    shipping = sum((group.shipping_fee for group in groups.values()), _ZERO)
    return CartView(
        cart_id=items[0].cart_id if items else None,
        lines=lines,
        groups=list(groups.values()),
        item_count=sum(line.quantity for line in lines),
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        currency=current_app.config["CURRENCY"],
    )


def get_cart(holder: Holder) -> CartView:
    """The cart as it stands: lines in the order they were added, grouped by shop, with live prices."""
    return view_of(_lines(holder))


def item_count(holder: Holder) -> int:
    """The number of units in the cart (for the header on every page): one small query."""
    if not _has_cart(holder):
        return 0
    stmt = select(func.coalesce(func.sum(CartItem.quantity), 0)).join(CartItem.cart).where(_owner_clause(holder))
    return int(db.session.scalar(stmt) or 0)


def _cart(holder: Holder, *, create: bool) -> Cart | None:
    if not _has_cart(holder):
        if create:
            raise ValueError("an anonymous visitor's cart needs a token first (carts.new_token)")
        return None
    cart = db.session.scalars(select(Cart).where(_owner_clause(holder))).one_or_none()
    if cart is not None or not create:
        return cart
    return _new_cart(holder)


def _new_cart(holder: Holder) -> Cart:
    """The holder's first cart (who had none a moment ago)."""
    try:
        with db.session.begin_nested():
            cart = Cart(user_id=holder.user_id, token=holder.token)
            db.session.add(cart)
    except IntegrityError:  # made meanwhile by a concurrent request of the same holder
        cart = db.session.scalars(select(Cart).where(_owner_clause(holder))).one()
    return cart


def _sellable(product_id: int) -> Product:
    """A product customers can buy, or NotFound."""
    validation.bounded_int(product_id, "product_id", 1, validation.ID_MAX)
    product = db.session.scalars(
        select(Product).options(joinedload(Product.shop)).where(Product.id == product_id)
    ).one_or_none()
    if product is None or not on_sale(product):
        raise NotFound(NOT_IN_CATALOG)
    return product


def _put(holder: Holder, product_id: int, quantity: int, *, adding: bool, retried: bool = False) -> CartView:
    validation.bounded_int(quantity, "quantity", 0 if not adding else 1, MAX_QUANTITY)
    if not _has_cart(holder):
        raise ValueError("an anonymous visitor's cart needs a token first (carts.new_token)")
    if quantity == 0:
        return remove(holder, product_id)
    product = _sellable(product_id)
    # The cart and its line of this product (if any) in one query; a first write makes the cart.
    found = db.session.execute(
        select(Cart, CartItem)
        .outerjoin(CartItem, (CartItem.cart_id == Cart.id) & (CartItem.product_id == product.id))
        .where(_owner_clause(holder))
    ).one_or_none()
    cart, item = (found[0], found[1]) if found is not None else (_new_cart(holder), None)
    assert cart is not None
    wanted = quantity + (item.quantity if item is not None and adding else 0)
    if wanted > MAX_QUANTITY:
        raise Conflict(f"At most {MAX_QUANTITY} of one product fit in a cart.", "quantity")
    if wanted > product.stock:
        left = "none is left" if product.stock == 0 else f"only {product.stock} left"
        raise Conflict(f"{product.name}: {left}.", "quantity")
    if item is None:
        try:
            with db.session.begin_nested():
                db.session.add(CartItem(cart_id=cart.id, product_id=product.id, quantity=wanted))
        except IntegrityError:
            if retried:  # pragma: no cover - a second clash would need a delete racing too
                raise
            # A concurrent request of the same holder put the product in first (the INSERT waited for it):
            # apply this one to the line it made.
            return _put(holder, product_id, quantity, adding=adding, retried=True)
    else:
        item.quantity = wanted
    cart.updated_at = utcnow()
    db.session.flush()
    return get_cart(holder)


def set_quantity(holder: Holder, product_id: int, quantity: int) -> CartView:
    """Set the product's quantity (1 to 99; 0 removes it). NotFound for a product not in the catalog, Conflict
    when more than its stock is asked for."""
    return _put(holder, product_id, quantity, adding=False)


def add(holder: Holder, product_id: int, quantity: int = 1) -> CartView:
    """Add ``quantity`` to what the cart holds of the product; the sum is checked as ``set_quantity`` does."""
    return _put(holder, product_id, quantity, adding=True)


def remove(holder: Holder, product_id: int) -> CartView:
    """Take the product out of the cart (whether it is still sold or not); nothing to remove is no error."""
    cart = _cart(holder, create=False)
    if cart is not None:
        db.session.execute(
            delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id),
            execution_options={"synchronize_session": "fetch"},
        )
        cart.updated_at = utcnow()
        db.session.flush()
    return get_cart(holder)


def clear(holder: Holder) -> None:
    cart = _cart(holder, create=False)
    if cart is not None:
        db.session.execute(
            delete(CartItem).where(CartItem.cart_id == cart.id), execution_options={"synchronize_session": "fetch"}
        )
        cart.updated_at = utcnow()
        db.session.flush()


def empty(cart_id: int) -> None:
    """Empty the cart of this id (checkout's end, which read the cart's lines just before): no query for the
    cart itself."""
    db.session.execute(
        delete(CartItem).where(CartItem.cart_id == cart_id), execution_options={"synchronize_session": "fetch"}
    )
    db.session.execute(update(Cart).where(Cart.id == cart_id).values(updated_at=utcnow()))


def merge_into_account(token: str, user: User) -> None:
    """Move an anonymous visitor's cart into the account's on login or registration: quantities are added,
    capped at the stock (and 99); products no longer sold are dropped; the anonymous cart is deleted."""
    anonymous = db.session.scalars(select(Cart).where(Cart.token == token)).one_or_none() if token else None
    if anonymous is None:
        return
    items = _lines(Holder(None, token))
    if items:
        cart = _cart(Holder(user.id, None), create=True)
        assert cart is not None
        for item in items:
            product = item.product
            if not on_sale(product):
                continue
            mine = db.session.get(CartItem, (cart.id, product.id))
            have = mine.quantity if mine is not None else 0
            wanted = min(have + item.quantity, product.stock, MAX_QUANTITY)
            if wanted <= have:
                continue
            if mine is None:
                db.session.add(CartItem(cart_id=cart.id, product_id=product.id, quantity=wanted))
            else:
                mine.quantity = wanted
        cart.updated_at = utcnow()
    db.session.delete(anonymous)
    db.session.flush()
