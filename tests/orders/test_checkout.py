"""Checkout: one order per shop, all or nothing; stock taken; lines are snapshots; refusals name the items;
expected_total; idempotency; mails queued with the orders."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopapp.core.errors import Conflict, Invalid, Refused
from shopapp.extensions import db
from shopapp.mail.models import OutboxMail
from shopapp.orders import carts, services
from shopapp.orders.models import Checkout, Order, OrderEvent
from shopapp.products import services as products
from shopapp.products.models import Product
from tests.orders.conftest import ADDRESS, BODY


def test_checkout_places_one_order_per_shop(app, tx, fill, place, make_user, two_shops, fresh):
    _owner_a, mug, _owner_b, pan = two_shops
    buyer = make_user(email="ada@example.com", name="Ada")
    fill(buyer, {mug: 2, pan: 1})
    placed = place(buyer, {**BODY, "note": "  Leave at the door ", "expected_total": "50.00"})
    assert [total for _, _, total in placed] == [Decimal("24.50"), Decimal("25.50")]
    assert all(re.fullmatch(r"SA[2-9A-HJ-NP-Z]{2}-1\d{5}", number) for _, number, _ in placed), placed
    assert fresh(Product, mug.id).stock == 3 and fresh(Product, pan.id).stock == 1
    assert fresh(Product, mug.id).version == mug.version + 1
    with tx():
        first = services.get_order(buyer, placed[0][0])
        summary = (first.shop.name, first.status, first.subtotal, first.shipping_fee)
        assert summary == ("Mugs", "placed", Decimal("20.00"), Decimal("4.50"))
        assert first.shipping_address == {**ADDRESS, "country": "FR", "line2": None}
        assert (first.buyer_email, first.buyer_name, first.note) == ("ada@example.com", "Ada", "Leave at the door")
        assert [(i.name, i.unit_price, i.quantity, i.line_total) for i in first.items] == [
            ("Mug", Decimal("10.00"), 2, Decimal("20.00"))
        ]
        assert [(e.from_status, e.to_status, e.actor_id) for e in first.events] == [(None, "placed", buyer.id)]
        assert carts.get_cart(carts.holder_for(buyer, None)).lines == []  # the cart is empty
        assert services.saved_address(buyer) == {**ADDRESS, "country": "FR", "line2": None}
        assert db.session.scalar(select(Checkout.total)) == Decimal("50.00")


def test_mails_are_queued_with_the_orders(app, tx, fill, place, make_user, two_shops):
    owner_a, mug, owner_b, pan = two_shops
    buyer = make_user(email="ada@example.com")
    fill(buyer, {mug: 1, pan: 1})
    numbers = [number for _, number, _ in place(buyer)]
    with tx():
        mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [m.recipient for m in mails] == ["ada@example.com", owner_a.email, owner_b.email]
        assert all(number in mails[0].text_body and number in mails[0].html_body for number in numbers)
        assert numbers[0] in mails[1].subject and "Mugs" in mails[1].subject and "Ada Buyer" in mails[1].text_body
        assert numbers[1] not in mails[1].text_body  # an owner hears of their own shop's order only


def test_html_mail_escapes_what_buyers_and_owners_typed(app, tx, fill, place, make_user, make_shop, make_product):
    product = make_product(make_shop(name="<b>Shop</b>"), name="<script>x</script>")
    buyer = make_user(name="<img src=x onerror=alert(1)>")
    fill(buyer, {product: 1})
    place(buyer, {"shipping_address": {**ADDRESS, "name": "<i>Ada</i>"}, "note": "<a href=javascript:x>hi</a>"})
    with tx():
        for mail in db.session.scalars(select(OutboxMail)):
            assert "<script>" not in mail.html_body and "<img" not in mail.html_body and "<i>" not in mail.html_body
            assert "<a href" not in mail.html_body and "<b>Shop" not in mail.html_body


def test_lines_are_snapshots(app, tx, fill, place, make_user, make_product):
    product = make_product(name="Mug", price=Decimal("10.00"))
    buyer = make_user()
    fill(buyer, {product: 2})
    [(order_id, _, _)] = place(buyer)
    owner = product.shop.owner
    with tx():
        products.update_product(owner, product.id, {"name": "Renamed", "price": "99.00"})
    with tx():
        products.delete_product(owner, product.id)
    with tx():
        order = services.get_order(buyer, order_id)
        assert [(i.name, i.unit_price, i.line_total) for i in order.items] == [
            ("Mug", Decimal("10.00"), Decimal("20.00"))
        ]
        assert order.total == Decimal("20.00")


def test_unavailable_items_refuse_the_whole_checkout_naming_each(app, tx, fill, make_user, two_shops, row_count,
                                                                 fresh):  # fmt: skip
    owner_a, mug, owner_b, pan = two_shops
    buyer = make_user()
    fill(buyer, {mug: 2, pan: 2})
    with tx():
        products.adjust_stock(owner_b, pan.id, -1)
    with tx(), pytest.raises(Refused) as refused:
        services.checkout(buyer, BODY)
    assert refused.value.status == 409
    assert [(p.field, p.message) for p in refused.value.problems] == [(f"items.{pan.id}", "Pan: only 1 left.")]
    assert row_count(Order) == 0 and row_count(Checkout) == 0 and row_count(OrderEvent) == 0
    assert fresh(Product, mug.id).stock == 5  # nothing taken from the shop whose items were there
    with tx():
        products.delete_product(owner_a, mug.id)
    with tx(), pytest.raises(Refused) as refused:
        services.checkout(buyer, BODY)
    assert [p.field for p in refused.value.problems] == [f"items.{mug.id}", f"items.{pan.id}"]
    assert "no longer sold" in refused.value.problems[0].message
    with tx():
        assert carts.item_count(carts.holder_for(buyer, None)) == 4  # the cart is kept


def test_a_race_lost_in_the_update_rolls_back_every_shop(app, tx, fill, make_user, two_shops, row_count, fresh,
                                                         monkeypatch):  # fmt: skip
    """The stock checked in the cart may be gone by the UPDATE: that product's row is not taken, and neither is
    any other (the savepoint rolls the first shop's back)."""
    _owner_a, mug, _owner_b, pan = two_shops
    buyer = make_user()
    fill(buyer, {mug: 1, pan: 2})
    real = carts.get_cart

    def cart_then_someone_buys(holder):  # type: ignore[no-untyped-def]
        view = real(holder)
        db.session.execute(Product.__table__.update().where(Product.id == pan.id).values(stock=1))
        return view

    monkeypatch.setattr(carts, "get_cart", cart_then_someone_buys)
    with tx():
        with pytest.raises(Refused) as refused:
            services.checkout(buyer, BODY)
        assert [p.field for p in refused.value.problems] == [f"items.{pan.id}"]
        assert db.session.get(Product, mug.id).stock == 5  # rolled back with the savepoint
    assert row_count(Order) == 0 and fresh(Product, mug.id).stock == 5


def test_expected_total_guards_a_price_change(app, tx, fill, place, make_user, two_shops, row_count):
    owner_a, mug, _owner_b, _pan = two_shops
    buyer = make_user()
    fill(buyer, {mug: 1})
    with tx():
        products.update_product(owner_a, mug.id, {"price": "11.00"})
    with tx():
        with pytest.raises(Conflict, match=r"15\.50 EUR, not 14\.50") as refused:
            services.checkout(buyer, {**BODY, "expected_total": "14.50"})
        assert refused.value.field == "expected_total"
    assert row_count(Order) == 0
    assert [total for _, _, total in place(buyer, {**BODY, "expected_total": "15.5"})] == [Decimal("15.50")]


def test_invalid_bodies_name_every_field(app, tx, fill, make_user, make_product):
    buyer = make_user()
    with tx():
        with pytest.raises(Invalid, match="empty") as empty:
            services.checkout(buyer, BODY)
        assert empty.value.field == "items"
        bad = {"name": " ", "line1": "x" * 201, "city": 5, "postal_code": "1\x1b", "country": "XX", "zip": "1"}
        with pytest.raises(Refused) as refused:
            services.checkout(buyer, {"shipping_address": bad, "note": "n" * 2001, "expected_total": "1.234",
                                      "coupon": "X"})  # fmt: skip
        fields = sorted(p.field for p in refused.value.problems)
        assert fields == sorted(
            ["coupon", "note", "expected_total"]
            + [f"shipping_address.{f}" for f in ("name", "line1", "city", "postal_code", "country", "zip")]
        )
        with pytest.raises(Invalid) as missing:
            services.checkout(buyer, {})
        assert missing.value.field == "shipping_address"


def test_address_is_saved_and_editable(app, tx, make_user):
    buyer = make_user()
    with tx():
        assert services.saved_address(buyer) is None
        saved = services.save_address(buyer, {**ADDRESS, "country": "de", "line2": "  "})
        assert saved == {**ADDRESS, "country": "DE", "line2": None}
        with pytest.raises(Invalid) as refused:
            services.save_address(buyer, {**ADDRESS, "country": "Germany"})
        assert refused.value.field == "country"
    with tx():
        assert services.saved_address(buyer)["country"] == "DE"


def test_idempotency_key_replays_and_refuses_another_body(app, tx, fill, place, make_user, make_product, row_count):
    product = make_product(stock=5)
    buyer = make_user()
    fill(buyer, {product: 1})
    first = place(buyer, BODY, key="k-1")
    reordered = {"shipping_address": dict(reversed(list(ADDRESS.items())))}
    with tx():
        again = services.checkout(buyer, reordered, idempotency_key="k-1")
        assert again.replayed and [(o.id, o.number, o.total) for o in again.orders] == first
        assert again.total == Decimal("9.99")
    assert row_count(Order) == 1 and row_count(Checkout) == 1
    with tx():
        with pytest.raises(Invalid) as reused:
            services.checkout(buyer, {**BODY, "note": "other"}, idempotency_key="k-1")
        assert reused.value.field == "Idempotency-Key"
    other_buyer = make_user()
    fill(other_buyer, {product: 1})
    assert place(other_buyer, BODY, key="k-1")[0][0] != first[0][0]  # keys are per buyer


def test_a_refusal_is_not_stored_under_its_key(app, tx, fill, place, make_user, make_product, row_count):
    product = make_product(stock=5)
    buyer = make_user()
    with tx(), pytest.raises(Invalid):
        services.checkout(buyer, BODY, idempotency_key="retry-me")  # empty cart
    assert row_count(Checkout) == 0
    fill(buyer, {product: 1})
    assert len(place(buyer, BODY, key="retry-me")) == 1  # the same key works once the cart is filled


def test_idempotency_key_length(app, tx, make_user):
    buyer = make_user()
    with tx():
        with pytest.raises(Invalid) as refused:
            services.checkout(buyer, BODY, idempotency_key="k" * 256)
        assert refused.value.field == "Idempotency-Key"


def test_an_orm_copy_of_the_product_is_fresh_after_checkout(app, tx, fill, make_user, make_product):
    """Stock is taken by an UPDATE the ORM does not see: the copy in the session must not go stale (its version
    is the ORM's version_id_col, so a stale copy would raise StaleDataError on its next change)."""
    product = make_product(stock=5)
    buyer = make_user()
    fill(buyer, {product: 2})
    with tx():
        copy = db.session.get(Product, product.id)
        assert copy.stock == 5
        services.checkout(buyer, BODY)
        assert copy.stock == 3
        copy.name = "Renamed after checkout"
        db.session.flush()  # no StaleDataError
    with tx():
        assert db.session.get(Product, product.id).name == "Renamed after checkout"
