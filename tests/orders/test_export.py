"""The orders CSV export: a header, one row per order with the filters applied, formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from shopapp.core.errors import Forbidden
from shopapp.orders import export, services
from tests.orders.conftest import ADDRESS


def test_export_rows_follow_the_filters(app, tx, fill, place, make_user, make_product):
    product = make_product(name="Mug", stock=10)
    owner = product.shop.owner
    ada = make_user(email="ada@example.com", name='=HYPERLINK("http://evil")')
    bob = make_user(email="bob@example.com")
    fill(ada, {product: 2})
    [(first, number, _)] = place(ada, {"shipping_address": {**ADDRESS, "line1": "+1 Main"}, "note": 'a,b\n"c"'})
    fill(bob, {product: 1})
    [(_second, _, _)] = place(bob)
    with tx():
        services.mark_paid(owner, first)
    with tx():
        rows = list(csv.reader(io.StringIO("".join(export.export_shop_orders_csv(owner, product.shop_id)))))
        assert rows[0] == list(export.COLUMNS)
        assert len(rows) == 3
        ada_row = dict(zip(rows[0], rows[2], strict=True))
        assert ada_row["number"] == number and ada_row["status"] == "paid" and ada_row["total"] == "19.98"
        assert ada_row["buyer_name"] == '\'=HYPERLINK("http://evil")' and ada_row["ship_line1"] == "'+1 Main"
        assert ada_row["note"] == 'a,b\n"c"' and ada_row["items"] == "2 x Mug @ 9.99"
        assert ada_row["paid_at"].endswith("Z") and ada_row["shipped_at"] == ""
        paid = list(csv.reader(io.StringIO("".join(export.export_shop_orders_csv(owner, product.shop_id,
                                                                                  status="paid")))))  # fmt: skip
        assert [row[0] for row in paid[1:]] == [number]
        by_email = "".join(export.export_shop_orders_csv(owner, product.shop_id, q="bob"))
        assert "bob@example.com" in by_email and "ada@example.com" not in by_email


def test_export_checks_the_owner_before_any_line(app, tx, make_user, make_shop):
    shop = make_shop()
    with tx(), pytest.raises(Forbidden):
        export.export_shop_orders_csv(make_user(), shop.id)
