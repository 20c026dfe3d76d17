"""The owner's orders: a list per shop (status filter, search by number or buyer email, newest first), the CSV
export of the same list, and an order's page with the transitions its status allows, in place with htmx and as
plain forms. Another owner's shop or order is a 404 whatever URL is typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp.auth.sessions import require_login
from shopapp.core.csv_cells import csv_download
from shopapp.core.db import db
from shopapp.core.errors import NotFound
from shopapp.core.forms import attempt, page_write
from shopapp.core.htmx import render, wants_fragment
from shopapp.core.routing import ID, requested_page
from shopapp.orders import export, services
from shopapp.orders.forms import CancelForm, ShipForm
from shopapp.orders.models import Order
from shopapp.orders.views import STATUS_LABELS
from shopapp.shops.services import get_owned_shop

bp = Blueprint("orders_manage", __name__, url_prefix="/dashboard")
require_login(bp)


@bp.after_request
def _private(response: Response) -> Response:
    """Buyers' names and addresses: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


PER_PAGE = 25
# Each transition: its service, the button's label, what it says once done.
TRANSITIONS: dict[str, tuple[Callable[..., Order], str, str]] = {
    "mark_paid": (services.mark_paid, "Mark paid", "marked paid"),
    "ship": (services.ship, "Mark shipped", "marked shipped"),
    "deliver": (services.deliver, "Mark delivered", "marked delivered"),
    "cancel": (services.cancel, "Cancel order", "cancelled"),
}


def _filters() -> tuple[str | None, str | None]:
    status = request.args.get("status") or None
    q = (request.args.get("q") or "").strip() or None
    return (status if status in STATUS_LABELS else None), q


@bp.get(f"/shops/<{ID}:shop_id>/orders")
def index(shop_id: int) -> ResponseReturnValue:
    shop = get_owned_shop(current_user, shop_id)
    status, q = _filters()
    page = services.list_shop_orders(
        current_user, shop.id, status=status, q=q, page=requested_page(PER_PAGE), per_page=PER_PAGE
    )
    return render(
        "orders/manage/index.html",
        "orders/manage/_table.html",
        shop=shop,
        page=page,
        status=status,
        q=q or "",
        statuses=STATUS_LABELS,
        counts=services.status_counts(current_user, shop.id),
    )


@bp.get(f"/shops/<{ID}:shop_id>/orders.csv")
def export_csv(shop_id: int) -> ResponseReturnValue:
    """The list as CSV, filters applied, streamed row by row."""
    shop = get_owned_shop(current_user, shop_id)
    status, q = _filters()
    lines = export.export_shop_orders_csv(current_user, shop.id, status=status, q=q)
    name = f"orders-shop-{shop.id}{'-' + status if status else ''}.csv"
    return csv_download(lines, name)


def _owned_order(order_id: int) -> Order:
    """An order of one of the owner's shops (a buyer reads theirs under /account/orders)."""
    order = services.get_order(current_user, order_id)
    if order.shop.owner_id != current_user.id:
        raise NotFound("No such order.")
    return order


def _order_page(order: Order, *, message: str | None = None, status: int = 200) -> Any:
    context: dict[str, Any] = {
        "order": order,
        "actions": services.allowed_transitions(current_user, order),
        "transitions": TRANSITIONS,
        "ship_form": ShipForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
        "message": message,
    }
    return render("orders/manage/order.html", "orders/manage/_status.html", http_status=status, **context)


@bp.get(f"/orders/<{ID}:order_id>")
def order(order_id: int) -> ResponseReturnValue:
    return _order_page(_owned_order(order_id))


@bp.post(f"/orders/<{ID}:order_id>/<action>")
@page_write
def transition(order_id: int, action: str) -> ResponseReturnValue:
    """One transition; one another tab already made (or one no longer allowed) says so, with the order as it is
    now and only the buttons it allows."""
    if action not in TRANSITIONS:
        raise NotFound("No such action.")
    order = _owned_order(order_id)
    service, _label, past = TRANSITIONS[action]
    args: tuple[Any, ...] = ()
    if action == "ship":
        args = ((ShipForm().tracking_number.data or "").strip() or None,)
    elif action == "cancel":
        args = ((CancelForm().reason.data or "").strip() or None,)
    done = attempt(lambda: service(current_user, order.id, *args))
    if done.error is not None:
        return _order_page(_owned_order(order_id), message=done.error.message, status=done.error.status)
    db.session.flush()
    db.session.expire_all()  # the services change statuses with conditional UPDATEs: read the order anew
    flash(f"Order {order.number} is {past}.", "success")
    if not wants_fragment():
        return redirect(url_for("orders_manage.order", order_id=order.id))
    return _order_page(_owned_order(order_id))
