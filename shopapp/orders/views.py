"""The customers' pages: the cart, checkout (address, review, place order, confirmation) and "My orders".

A visitor who is not signed in has a cart too: its token is kept in the session (``carts.SESSION_KEY``; the
header's item count is filled into cached catalog pages per request, core/cache/), and it merges into the
account's cart on login and registration (auth/views.py). Checkout and the order pages need an account; an
order someone else placed is a 404, and none of these pages is ever cached.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shopapp.auth.views import local_target
from shopapp.core.db import db
from shopapp.core.errors import Conflict, DomainError, NotFound, Refused
from shopapp.core.forms import REFUSALS, attempt, page_write
from shopapp.core.htmx import render, wants_fragment
from shopapp.core.routing import ID, requested_page
from shopapp.orders import carts, services
from shopapp.orders.forms import ADDRESS, AddressForm, AddToCartForm, CancelForm, PlaceOrderForm, QuantityForm
from shopapp.orders.models import Order

bp = Blueprint("orders", __name__)


@bp.after_request
def _private(response: Response) -> Response:
    """Carts, checkouts and orders are one person's: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


ORDERS_PER_PAGE = 20
STATUS_LABELS = {
    "placed": "Placed",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
}


# --- the cart's holder and the header's count --------------------------------------------------------------


def _holder(*, create: bool = False) -> carts.Holder | None:
    """Whose cart this request reads: the account's, else the session's; ``create`` gives an anonymous visitor
    a token (and so a session cookie) for a first "Add to cart"."""
    if current_user.is_authenticated:
        return carts.holder_for(current_user._get_current_object(), None)
    token = session.get(carts.SESSION_KEY)
    if not isinstance(token, str) or not token:
        if not create:
            return None
        token = session[carts.SESSION_KEY] = carts.new_token()
    return carts.holder_for(None, token)


@bp.app_template_global("cart_count")
def header_cart_count() -> int | None:
    """The header's item count: one cheap query, only for a visitor with a cart or an account (None: none to
    show). Read once per request; a database that cannot answer leaves the header without it, as the error
    pages need their layout too."""
    if "cart_count" not in g:
        holder = _holder()
        try:
            g.cart_count = carts.item_count(holder) if holder is not None else None
        except SQLAlchemyError:
            db.session.rollback()
            g.cart_count = None
    return g.cart_count


class _Empty:
    """The cart of a visitor who has none yet: nothing in it."""

    lines: list[Any] = []
    groups: list[Any] = []
    item_count = 0


_EMPTY = _Empty()


def _cart_view() -> Any:
    """The cart, and with it the header's count (the same sum: no query more for it)."""
    holder = _holder()
    if holder is None:
        return _EMPTY
    view = carts.get_cart(holder)
    g.cart_count = view.item_count
    return view


# --- the cart ----------------------------------------------------------------------------------------------


@bp.get("/cart")
def cart() -> ResponseReturnValue:
    return _cart_page(_cart_view())


def _cart_page(view: Any, errors: dict[int, str] | None = None, status: int = 200) -> ResponseReturnValue:
    return render(
        "orders/cart.html",
        "orders/_cart.html",
        http_status=status,
        cart=view,
        errors=errors or {},
        oob=wants_fragment(),
    )


@bp.post("/cart/add")
@page_write
def add() -> ResponseReturnValue:
    """ "Add to cart": back to the page it was on (with a message), or for htmx a status line and the header's
    new count in place."""
    form = AddToCartForm()
    back = local_target(form.next.data) or url_for("orders.cart")
    if not form.validate_on_submit():
        message = "Choose a quantity from 1 to 99."
        return _added(None, message, back, 422)
    product_id, quantity = int(form.data["product_id"]), int(form.data["quantity"])
    holder = _holder(create=True)
    assert holder is not None
    done = attempt(lambda: carts.add(holder, product_id, quantity), (*REFUSALS, NotFound))
    if done.error is not None:
        status = 404 if isinstance(done.error, NotFound) else done.error.status
        message = "This product is no longer sold." if status == 404 else _sentence(done.error.message)
        return _added(None, f"Not added: {message}", back, status)
    assert done.value is not None
    line = next((line for line in done.value.lines if line.product.id == product_id), None)
    name = line.product.name if line else "The product"
    g.cart_count = done.value.item_count
    return _added(done.value.item_count, f"“{name}” is in your cart ({quantity} added).", back, 200)


def _added(count: int | None, message: str, back: str, status: int) -> ResponseReturnValue:
    if wants_fragment():
        return render_template("orders/_added.html", message=message, ok=status == 200), status
    flash(message, "success" if status == 200 else "error")
    return redirect(back)


@bp.post(f"/cart/items/<{ID}:product_id>")
@page_write
def set_quantity(product_id: int) -> ResponseReturnValue:
    """One line's quantity, from its own small form (htmx sends it on change); 0 removes the line."""
    form = QuantityForm()
    if not form.validate_on_submit():
        return _cart_page(_cart_view(), {product_id: " ".join(form.quantity.errors) or "Invalid quantity."}, 422)
    holder = _holder()
    if holder is None:
        return redirect(url_for("orders.cart"))
    quantity = int(form.data["quantity"])
    done = attempt(lambda: carts.set_quantity(holder, product_id, quantity), (*REFUSALS, NotFound))
    if done.error is not None:
        status = 409 if isinstance(done.error, NotFound) else done.error.status
        message = "This product is no longer sold." if isinstance(done.error, NotFound) else done.error.message
        return _cart_page(carts.get_cart(holder), {product_id: _sentence(message)}, status)
    flash("Your cart is updated.", "success")
    if not wants_fragment():
        return redirect(url_for("orders.cart"))
    assert done.value is not None
    g.cart_count = done.value.item_count
    return _cart_page(done.value)


@bp.post(f"/cart/items/<{ID}:product_id>/remove")
@page_write
def remove(product_id: int) -> ResponseReturnValue:
    holder = _holder()
    if holder is None:
        return redirect(url_for("orders.cart"))
    view = carts.remove(holder, product_id)
    flash("The item is removed from your cart.", "success")
    if not wants_fragment():
        return redirect(url_for("orders.cart"))
    g.cart_count = view.item_count
    return _cart_page(view)


# --- checkout ----------------------------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
@page_write
def checkout() -> ResponseReturnValue:
    """Step 1, the address (the saved one filled in) and a note; a valid one goes on to the review."""
    view = _cart_view()
    if not view.lines:
        flash("Your cart is empty.", "info")
        return redirect(url_for("orders.cart"))
    if request.method == "GET":
        saved = services.saved_address(current_user)
        form = AddressForm(formdata=None, data=saved or {"name": current_user.name})
        return render_template("orders/checkout.html", form=form, cart=view)
    form = AddressForm()
    if request.form.get("edit"):  # back from the review, the values as they were
        return render_template("orders/checkout.html", form=form, cart=view)
    if not form.validate_on_submit():
        return render_template("orders/checkout.html", form=form, cart=view), 422
    return _review(form, view)


def _review(form: AddressForm, view: Any, *, problems: list[str] | None = None, status: int = 200) -> Any:
    """Step 2: exactly what will be charged; the total and a fresh idempotency key go into the place form."""
    place = PlaceOrderForm(
        formdata=None,
        data={
            **form.address(),
            "note": form.note_text() or "",
            "expected_total": f"{view.total:.2f}",
            "idempotency_key": secrets.token_urlsafe(24),
        },
    )
    unavailable = [line for line in view.lines if not line.available]
    context = {"form": place, "cart": view, "problems": problems or [], "unavailable": unavailable}
    return render_template("orders/review.html", **context), status


@bp.post("/checkout/place")
@login_required
@page_write
def place() -> ResponseReturnValue:
    """Step 3: place the orders, one per shop; a refusal goes back to the step that can fix it."""
    form = PlaceOrderForm()
    view = _cart_view()
    if not form.validate_on_submit():
        if not form.expected_total.data or not form.idempotency_key.data or form.csrf_token.errors:
            flash("Please review your order again.", "info")
            return redirect(url_for("orders.checkout"))
        return render_template("orders/checkout.html", form=form, cart=view), 422
    user = current_user._get_current_object()
    key = form.idempotency_key.data
    done = attempt(lambda: services.checkout(user, form.body(), idempotency_key=key))
    if done.ok:
        assert done.value is not None
        g.cart_count = 0
        return redirect(url_for("orders.confirmation", checkout_id=done.value.orders[0].checkout_id))
    error = done.error
    assert error is not None
    if error.status == Conflict.status:
        return _review(form, _cart_view(), problems=_conflicts(error), status=Conflict.status)
    problems = error.problems if isinstance(error, Refused) else [error]
    address_problems = [p for p in problems if _address_field(p.field)]
    if not address_problems:  # an empty cart, say
        return _review(form, _cart_view(), problems=[_sentence(p.message) for p in problems], status=error.status)
    for problem in problems:
        name = _address_field(problem.field)
        if name:
            form[name].errors = [*form[name].errors, problem.message]
        else:
            form.form_errors.append(problem.message)
    return render_template("orders/checkout.html", form=form, cart=view), error.status


def _address_field(field: str | None) -> str | None:
    """The form field a checkout problem names ("shipping_address.city" or "city"), if any."""
    name = (field or "").removeprefix("shipping_address.")
    return name if name in (*ADDRESS, "note") else None


def _conflicts(error: DomainError) -> list[str]:
    """A 409's messages, each naming its item (stock gone, a product no longer sold), or the total that changed."""
    messages = []
    for problem in error.problems if isinstance(error, Refused) else [error]:
        if problem.field == "expected_total":
            messages.append(
                "The total changed since you reviewed your order (a price or a shipping fee changed): "
                + _sentence(problem.message)
            )
        else:
            messages.append(_sentence(problem.message))
    return messages


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] if message else message


@bp.get(f"/checkout/<{ID}:checkout_id>/confirmation")
@login_required
def confirmation(checkout_id: int) -> ResponseReturnValue:
    """The orders one checkout placed, for its buyer only (anyone else: 404)."""
    orders = list(
        db.session.scalars(
            select(Order).where(Order.checkout_id == checkout_id, Order.buyer_id == current_user.id).order_by(Order.id)
        )
    )
    if not orders:
        raise NotFound("No such checkout.")
    total = sum((order.total for order in orders), start=Decimal("0.00"))
    return render_template("orders/confirmation.html", orders=orders, total=total)


# --- my orders ---------------------------------------------------------------------------------------------


@bp.get("/account/orders")
@login_required
def my_orders() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status not in STATUS_LABELS:
        status = None
    page = services.list_buyer_orders(
        current_user, status=status, page=requested_page(ORDERS_PER_PAGE), per_page=ORDERS_PER_PAGE
    )
    return render("orders/my_orders.html", "orders/_my_orders.html", page=page, status=status, statuses=STATUS_LABELS)


def _my_order(order_id: int) -> Order:
    """The signed-in customer's own order; an owner reads their shop's orders on the dashboard."""
    order = services.get_order(current_user, order_id)
    if order.buyer_id != current_user.id:
        raise NotFound("No such order.")
    return order


@bp.get(f"/account/orders/<{ID}:order_id>")
@login_required
def my_order(order_id: int) -> ResponseReturnValue:
    order = _my_order(order_id)
    return render_template("orders/my_order.html", order=order, form=CancelForm(formdata=None), can_cancel=_can(order))


def _can(order: Order) -> bool:
    return "cancel" in services.allowed_transitions(current_user, order)


@bp.post(f"/account/orders/<{ID}:order_id>/cancel")
@login_required
@page_write
def cancel(order_id: int) -> ResponseReturnValue:
    order = _my_order(order_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return render_template("orders/my_order.html", order=order, form=form, can_cancel=_can(order)), 422
    reason = (form.reason.data or "").strip() or None
    done = attempt(lambda: services.cancel(current_user, order.id, reason))
    if done.ok:
        flash(f"Order {order.number} is cancelled.", "success")
        return redirect(url_for("orders.my_order", order_id=order.id))
    return _refused_page(done.error, order_id)


def _refused_page(error: DomainError | None, order_id: int) -> ResponseReturnValue:
    assert error is not None
    order = _my_order(order_id)
    form = CancelForm(formdata=None)
    form.form_errors.append(_sentence(error.message))
    return render_template("orders/my_order.html", order=order, form=form, can_cancel=_can(order)), error.status
