"""Orders: checkout places the cart as one order per shop (all or none, stock taken atomically); the buyer
and the shop's owner read them; the owner marks them paid, ships and delivers; either may cancel as allowed."""

from __future__ import annotations

from flask import request

from shopapp.api.operations import operation
from shopapp.api.schemas import (
    CancelIn,
    CheckoutIn,
    CheckoutOut,
    OrderListQuery,
    OrderOut,
    OrderPage,
    ShipIn,
    ShopOrderListQuery,  # fmt: skip
)
from shopapp.auth.models import User
from shopapp.core.pagination import Page
from shopapp.orders import services as orders
from shopapp.orders.models import IDEMPOTENCY_KEY_MAX, Order
from shopapp.orders.services import CheckoutResult

TAG = "orders"
ONE = "/orders/<int:order_id>"
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any string of your choosing, new for each checkout: a retry with the same key and the same body"
    " within 24 hours answers the first checkout again and places nothing new; the same key with another body is"
    " 422. Only a success is kept: after a refusal the key may be used again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX, "examples": ["3f2b9c1e-checkout"]},
}


@operation(
    "/checkout",
    methods=("POST",),
    summary="Place the cart: one order per shop, all or none",
    tag=TAG,
    status=201,
    auth="required",
    body=CheckoutIn,
    response=CheckoutOut,
    errors=(409,),
    headers=(IDEMPOTENCY_KEY,),
)
def checkout(user: User, body: CheckoutIn) -> CheckoutResult:
    """An empty cart is 422. Every item must still be in the catalog with enough stock, else 409 with an
    errors entry items.<product_id> for each, and nothing is placed; the stock is taken atomically, so
    concurrent checkouts never sell more than there is. expected_total, if given, must equal the cart's total
    (409 otherwise). On success the cart is empty, the address is remembered, and the buyer and each shop's
    owner get a mail. See the Idempotency-Key header for retries.
    """
    key = request.headers.get("Idempotency-Key")
    return orders.checkout(user, body.model_dump(mode="json", exclude_unset=True), idempotency_key=key)


@operation(
    "/users/me/orders",
    summary="The caller's orders as a buyer, newest first",
    tag=TAG,
    auth="required",
    query=OrderListQuery,
    response=OrderPage,
)
def list_my_orders(user: User, query: OrderListQuery) -> Page[Order]:
    """status keeps the orders in that status."""
    return orders.list_buyer_orders(user, status=query.status, page=query.page, per_page=query.per_page)


@operation(ONE, summary="One order, for its buyer or its shop's owner", tag=TAG, auth="required",
           response=OrderOut, errors=(404,))  # fmt: skip
def get_order(order_id: int, user: User) -> Order:
    """404 for anyone but the buyer and the owner of the order's shop: the buyer's address and email stay theirs."""
    return orders.get_order(user, order_id)


@operation(
    "/shops/<int:shop_id>/orders",
    summary="A shop's orders for its owner, newest first",
    tag=TAG,
    auth="required",
    query=ShopOrderListQuery,
    response=OrderPage,
    errors=(403, 404),
)
def list_shop_orders(shop_id: int, user: User, query: ShopOrderListQuery) -> Page[Order]:
    """403 for another owner's shop, 404 for a deleted one (its orders stay readable by id). q matches an
    order's number exactly (any case) or part of the buyer's email; status keeps the orders in that status.
    """
    return orders.list_shop_orders(
        user, shop_id, status=query.status, q=query.q, page=query.page, per_page=query.per_page
    )


@operation(
    ONE + "/cancel",
    methods=("POST",),
    summary="Cancel: the buyer while placed, the shop's owner while placed or paid; the stock goes back",
    tag=TAG,
    auth="required",
    body=CancelIn,
    body_required=False,
    response=OrderOut,
    errors=(404, 409),
)
def cancel_order(order_id: int, user: User, body: CancelIn) -> Order:
    """A status that does not allow it is 409, naming the order's status (a buyer cancelling a paid order
    included); the buyer gets a mail with the reason. The body may be left out.
    """
    return orders.cancel(user, order_id, body.reason)


@operation(
    ONE + "/mark-paid",
    methods=("POST",),
    summary="Record the payment of a placed order (the shop's owner)",
    tag=TAG,
    auth="required",
    response=OrderOut,
    errors=(403, 404, 409),
)
def mark_order_paid(order_id: int, user: User) -> Order:
    """Payment happens outside ShopApp (bank transfer, cash on delivery). 403 for the buyer; 409 unless the
    order is placed.
    """
    return orders.mark_paid(user, order_id)


@operation(
    ONE + "/ship",
    methods=("POST",),
    summary="Ship a paid order, with an optional tracking number (the shop's owner)",
    tag=TAG,
    auth="required",
    body=ShipIn,
    body_required=False,
    response=OrderOut,
    errors=(403, 404, 409),
)
def ship_order(order_id: int, user: User, body: ShipIn) -> Order:
    """403 for the buyer; 409 unless the order is paid. The buyer gets a mail with the tracking number. The
    body may be left out.
    """
    return orders.ship(user, order_id, body.tracking_number)


@operation(
    ONE + "/deliver",
    methods=("POST",),
    summary="Mark a shipped order delivered (the shop's owner)",
    tag=TAG,
    auth="required",
    response=OrderOut,
    errors=(403, 404, 409),
)
def deliver_order(order_id: int, user: User) -> Order:
    """403 for the buyer; 409 unless the order is shipped."""
    return orders.deliver(user, order_id)
