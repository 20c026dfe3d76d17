"""Fulfilment: placed -> paid -> shipped -> delivered, cancelled from placed or paid; who may do what; events;
stock back on cancel; the buyer's data seen by the buyer and the shop's owner only; lists and counts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shopapp.core.errors import Conflict, Forbidden, Invalid, NotFound
from shopapp.extensions import db
from shopapp.mail.models import OutboxMail
from shopapp.orders import services
from shopapp.products.models import Product

ACTIONS = {
    "mark_paid": lambda user, order_id: services.mark_paid(user, order_id),
    "ship": lambda user, order_id: services.ship(user, order_id, "TRK-1"),
    "deliver": lambda user, order_id: services.deliver(user, order_id),
    "cancel": lambda user, order_id: services.cancel(user, order_id, "changed my mind"),
}
# How to bring an order to each status, by its owner.
PATHS = {
    "placed": [],
    "paid": ["mark_paid"],
    "shipped": ["mark_paid", "ship"],
    "delivered": ["mark_paid", "ship", "deliver"],
    "cancelled": ["cancel"],
}
# (actor, status) -> the actions that succeed; everything else is 409 for the owner, 403/409 for the buyer.
OWNER_MAY = {"placed": {"mark_paid", "cancel"}, "paid": {"ship", "cancel"}, "shipped": {"deliver"}}
BUYER_MAY = {"placed": {"cancel"}}


@pytest.fixture
def order_in(tx, fill, place, make_user, make_product):  # type: ignore[no-untyped-def]
    """``order_in(status)``: (order id, buyer, owner, product) with one order of 2 units brought to ``status``."""

    def make(status: str):  # type: ignore[no-untyped-def]
        product = make_product(stock=5)
        owner, buyer = product.shop.owner, make_user()
        fill(buyer, {product: 2})
        [(order_id, _, _)] = place(buyer)
        for action in PATHS[status]:
            with tx():
                ACTIONS[action](owner, order_id)
        return order_id, buyer, owner, product

    return make


def _expected(actor: str, status: str, action: str) -> type[Exception] | None:
    if actor == "stranger":
        return NotFound
    if actor == "owner":
        return None if action in OWNER_MAY.get(status, set()) else Conflict
    if action != "cancel":
        return Forbidden
    return None if action in BUYER_MAY.get(status, set()) else Conflict


@pytest.mark.parametrize("status", list(PATHS))
def test_transition_matrix(app, tx, order_in, make_user, fresh, status):
    order_id, buyer, owner, product = order_in(status)
    actors = {"owner": owner, "buyer": buyer, "stranger": make_user()}
    wrong = []
    for action in ACTIONS:
        for actor, user in actors.items():
            expected = _expected(actor, status, action)
            with tx():
                try:
                    after = ACTIONS[action](user, order_id)
                    outcome, moved_to = None, after.status
                except (Conflict, Forbidden, NotFound) as error:
                    outcome, moved_to = type(error), None
                    if isinstance(error, Conflict):
                        assert error.message.startswith(f"This order is {status}; it cannot be "), error.message
                db.session.rollback()  # each try starts from the same order
            if outcome is not expected:
                wrong.append((actor, action, expected, outcome))
            elif moved_to is not None:
                assert moved_to == services.TRANSITIONS[action].to
    assert wrong == []
    assert fresh(Product, product.id).stock == (5 if status == "cancelled" else 3)


def test_refusal_names_both_statuses(app, tx, order_in):
    order_id, _buyer, owner, _product = order_in("shipped")
    with tx():
        with pytest.raises(Conflict, match=r"^This order is shipped; it cannot be marked paid\.$"):
            services.mark_paid(owner, order_id)
        with pytest.raises(Conflict, match=r"^This order is shipped; it cannot be cancelled\.$"):
            services.cancel(owner, order_id)


def test_each_transition_is_an_event_with_who_and_when(app, tx, order_in, fresh):
    order_id, buyer, owner, _product = order_in("delivered")
    with tx():
        order = services.get_order(buyer, order_id)
        assert [(e.from_status, e.to_status, e.actor_id) for e in order.events] == [
            (None, "placed", buyer.id),
            ("placed", "paid", owner.id),
            ("paid", "shipped", owner.id),
            ("shipped", "delivered", owner.id),
        ]
        assert order.events[2].note == "TRK-1" and order.tracking_number == "TRK-1"
        assert order.paid_at <= order.shipped_at <= order.delivered_at and order.cancelled_at is None
        to_buyer = select(OutboxMail).where(OutboxMail.recipient == buyer.email)
        mails = db.session.scalars(to_buyer.order_by(OutboxMail.id)).all()  # in the order they were written
        assert [m.subject for m in mails][1] == f"Order {order.number} is on its way"
        assert "TRK-1" in mails[1].text_body and "TRK-1" in mails[1].html_body


def test_cancel_puts_the_stock_back_and_mails_the_buyer(app, tx, order_in, fresh):
    order_id, buyer, owner, product = order_in("paid")
    assert fresh(Product, product.id).stock == 3
    with tx():
        order = services.cancel(owner, order_id, "  out of ink ")
        assert (order.status, order.cancel_reason) == ("cancelled", "out of ink")
        assert order.events[-1].note == "out of ink" and order.events[-1].actor_id == owner.id
    assert fresh(Product, product.id).stock == 5
    with tx():
        [mail] = db.session.scalars(select(OutboxMail).where(OutboxMail.subject.like("%cancelled%"))).all()
        assert mail.recipient == buyer.email and "out of ink" in mail.text_body
        with pytest.raises(Conflict):
            services.cancel(owner, order_id)
    assert fresh(Product, product.id).stock == 5  # once only


def test_tracking_number_and_reason_are_checked(app, tx, order_in):
    order_id, _buyer, owner, _product = order_in("paid")
    with tx():
        with pytest.raises(Invalid) as refused:
            services.ship(owner, order_id, "x" * 201)
        assert refused.value.field == "tracking_number"
        assert services.ship(owner, order_id, "   ").tracking_number is None


def test_the_order_is_seen_by_its_buyer_and_its_shops_owner_only(app, tx, order_in, make_user, make_shop):
    order_id, buyer, owner, product = order_in("placed")
    other_owner = make_user()
    other_shop = make_shop(other_owner)
    with tx():
        assert services.get_order(buyer, order_id).buyer_email == buyer.email
        assert services.get_order(owner, order_id).ship_name == "Ada Buyer"
        for stranger in (make_user(), other_owner):
            with pytest.raises(NotFound):
                services.get_order(stranger, order_id)
        with pytest.raises(Forbidden):
            services.list_shop_orders(other_owner, product.shop_id)
        with pytest.raises(NotFound):
            services.list_shop_orders(owner, 999_999)
        assert services.list_shop_orders(other_owner, other_shop.id).items == []
        assert services.list_buyer_orders(other_owner).items == []


def test_lists_filters_and_counts(app, tx, fill, place, make_user, make_product):
    product = make_product(stock=50)
    owner = product.shop.owner
    ada, bob = make_user(email="ada@example.com"), make_user(email="bob@example.com")
    ids = []
    for buyer in (ada, bob, ada):
        fill(buyer, {product: 1})
        ids.append(place(buyer)[0])
    with tx():
        services.mark_paid(owner, ids[0][0])
    with tx():
        assert [o.id for o in services.list_shop_orders(owner, product.shop_id).items] == [i for i, _, _ in ids][::-1]
        assert [o.id for o in services.list_shop_orders(owner, product.shop_id, status="paid").items] == [ids[0][0]]
        assert [o.id for o in services.list_shop_orders(owner, product.shop_id, q="BOB@").items] == [ids[1][0]]
        number = ids[2][1]
        assert [o.id for o in services.list_shop_orders(owner, product.shop_id, q=number.lower()).items] == [ids[2][0]]
        assert services.list_shop_orders(owner, product.shop_id, q=number[:-1]).items == []  # numbers match exactly
        assert [o.id for o in services.list_buyer_orders(ada).items] == [ids[2][0], ids[0][0]]
        assert [o.id for o in services.list_buyer_orders(ada, status="placed").items] == [ids[2][0]]
        page = services.list_buyer_orders(ada, page=2, per_page=1)
        assert (page.total, [o.id for o in page.items]) == (2, [ids[0][0]])
        counts = services.status_counts(owner, product.shop_id)
        assert counts == {"placed": 2, "paid": 1, "shipped": 0, "delivered": 0, "cancelled": 0}
        with pytest.raises(Invalid):
            services.list_buyer_orders(ada, status="lost")


def test_allowed_transitions_for_the_buttons(app, tx, order_in, make_user):
    order_id, buyer, owner, _product = order_in("placed")
    with tx():
        order = services.get_order(owner, order_id)
        assert services.allowed_transitions(owner, order) == ["mark_paid", "cancel"]
        assert services.allowed_transitions(buyer, order) == ["cancel"]
        assert services.allowed_transitions(make_user(), order) == []
        services.mark_paid(owner, order_id)
    with tx():
        order = services.get_order(owner, order_id)
        assert services.allowed_transitions(owner, order) == ["ship", "cancel"]
        assert services.allowed_transitions(buyer, order) == []
