"""Cart rules: quantities 1 to 99 within the stock, products in the catalog only, grouping by shop with each
shop's fee, an anonymous cart merged into the account's on login."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopapp.core.errors import Conflict, Invalid, NotFound
from shopapp.orders import carts
from shopapp.orders.models import Cart, CartItem
from shopapp.products import services as products


def test_cart_groups_lines_by_shop_with_fees_and_totals(app, tx, make_user, two_shops):
    _owner_a, mug, _owner_b, pan = two_shops
    buyer = make_user()
    holder = carts.holder_for(buyer, None)
    with tx():
        carts.set_quantity(holder, mug.id, 2)
        view = carts.add(holder, pan.id)
        assert [(line.product.name, line.quantity, line.line_total) for line in view.lines] == [
            ("Mug", 2, Decimal("20.00")),
            ("Pan", 1, Decimal("25.50")),
        ]
        assert [(g.shop.name, g.subtotal, g.shipping_fee, g.total) for g in view.groups] == [
            ("Mugs", Decimal("20.00"), Decimal("4.50"), Decimal("24.50")),
            ("Pans", Decimal("25.50"), Decimal("0.00"), Decimal("25.50")),
        ]
        assert (view.item_count, view.subtotal, view.shipping, view.total) == (3, Decimal("45.50"), Decimal("4.50"),
                                                                               Decimal("50.00"))  # fmt: skip
        assert view.currency == "EUR" and all(line.available for line in view.lines)
    with tx():
        assert carts.item_count(holder) == 3
        assert carts.add(holder, pan.id).lines[1].quantity == 2  # add adds to what is there
        assert [line.product.name for line in carts.set_quantity(holder, mug.id, 0).lines] == ["Pan"]
        assert carts.remove(holder, pan.id).lines == []
        assert carts.item_count(holder) == 0


def test_quantity_rules(app, tx, make_user, make_product):
    product = make_product(stock=3)
    hidden = make_product(is_active=False)
    holder = carts.holder_for(make_user(), None)
    with tx():
        for bad in (-1, 100, True, "2"):
            with pytest.raises(Invalid) as refused:
                carts.set_quantity(holder, product.id, bad)  # type: ignore[arg-type]
            assert refused.value.field == "quantity"
        with pytest.raises(Conflict, match="only 3 left"):
            carts.set_quantity(holder, product.id, 4)
        with pytest.raises(NotFound):
            carts.set_quantity(holder, hidden.id, 1)
        with pytest.raises(NotFound):
            carts.set_quantity(holder, 999_999, 1)
        carts.set_quantity(holder, product.id, 3)
        with pytest.raises(Conflict):
            carts.add(holder, product.id, 1)  # the sum is checked
    with tx():
        assert carts.item_count(holder) == 3


def test_a_line_that_left_the_catalog_or_lost_stock_is_marked(app, tx, make_user, make_product):
    kept, gone, short = make_product(stock=5), make_product(stock=5), make_product(stock=5)
    holder = carts.holder_for(make_user(), None)
    with tx():
        for product in (kept, gone, short):
            carts.set_quantity(holder, product.id, 3)
    with tx():
        products.delete_product(gone.shop.owner, gone.id)
        products.adjust_stock(short.shop.owner, short.id, -4)
    with tx():
        view = carts.get_cart(holder)
        assert [(line.product.id, line.available, line.reason) for line in view.lines] == [
            (kept.id, True, None),
            (gone.id, False, "no longer sold"),
            (short.id, False, "only 1 left"),
        ]
        assert view.subtotal == Decimal("9.99") * 9  # every line counts in the subtotal
        assert [line.product.id for line in carts.remove(holder, gone.id).lines] == [kept.id, short.id]


def test_cart_reads_in_one_query(app, tx, make_user, make_product, make_image, queries):
    holder = carts.holder_for(make_user(), None)
    for _ in range(3):
        product = make_product()
        make_image(product)
        with tx():
            carts.set_quantity(holder, product.id, 1)
    with tx():
        queries.clear()
        view = carts.get_cart(holder)
        assert [len(line.product.images) for line in view.lines] == [1, 1, 1] and view.groups[0].shop.name
        assert len(queries) == 1, queries.sql
        queries.clear()
        assert carts.item_count(holder) == 3 and len(queries) == 1


def test_anonymous_cart_merges_into_the_account_capped_at_stock(app, tx, make_user, make_product, row_count):
    both, only_anon, sold_out = make_product(stock=4), make_product(stock=10), make_product(stock=2)
    user = make_user()
    token = carts.new_token()
    anonymous = carts.holder_for(None, token)
    with tx():
        carts.set_quantity(carts.holder_for(user, None), both.id, 3)
        carts.set_quantity(anonymous, both.id, 3)
        carts.set_quantity(anonymous, only_anon.id, 2)
        carts.set_quantity(anonymous, sold_out.id, 2)
        assert carts.item_count(anonymous) == 7
    with tx():
        products.adjust_stock(sold_out.shop.owner, sold_out.id, -2)
    with tx():
        carts.merge_into_account(token, user)
    with tx():
        lines = carts.get_cart(carts.holder_for(user, None)).lines
        assert [(line.product.id, line.quantity) for line in lines] == [(both.id, 4), (only_anon.id, 2)]
        assert carts.item_count(anonymous) == 0
    assert row_count(Cart) == 1 and row_count(CartItem) == 2
    with tx():
        carts.merge_into_account(token, user)  # nothing left to merge: no error


def test_a_visitor_without_a_cart_reads_an_empty_one(app, tx):
    nobody = carts.holder_for(None, None)
    with tx():
        assert carts.get_cart(nobody).lines == [] and carts.item_count(nobody) == 0
        assert carts.get_cart(nobody).total == Decimal("0.00")
        with pytest.raises(ValueError):
            carts.set_quantity(nobody, 1, 1)
