"""Constraint violations become domain errors, and the database itself holds the line."""

from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.categories import services as categories
from shopapp.core.errors import Conflict, Invalid
from shopapp.extensions import db
from shopapp.products import services as products
from shopapp.products.models import Product

pytestmark = pytest.mark.usefixtures("app_ctx")  # the services, called directly


def test_duplicate_email_in_any_case_is_a_conflict(make_user):
    make_user(email="a@x.com")
    with pytest.raises(Conflict) as err:
        auth.register("A@X.COM", "another password", "Someone")
    assert err.value.field == "email"
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_database_refuses_case_variant_email_even_without_the_service(make_user):
    make_user(email="b@x.com")
    with pytest.raises(IntegrityError):
        db.session.execute(insert(User).values(email="B@x.COM", name="x", password_hash="x"))
    db.session.rollback()


def test_negative_stock_is_invalid_and_database_checks_it(make_product):
    product = make_product(stock=1)
    with pytest.raises(Invalid) as err:
        products.update_product(product.shop.owner, product.id, {"stock": -1})
    assert err.value.field == "stock"
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Product).where(Product.id == product.id).values(stock=-5))
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Product, product.id).stock == 1


def test_foreign_keys_are_enforced(app):
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Product).values(shop_id=999, name="x", slug="x", price=Decimal("1.00")))
        db.session.flush()
    db.session.rollback()


def test_duplicate_live_product_name_in_a_shop_is_a_conflict(make_shop, make_product):
    shop = make_shop()
    make_product(shop=shop, name="Red Mug")
    with pytest.raises(Conflict) as err:
        products.create_product(shop.owner, {"shop_id": shop.id, "name": "red  mug", "price": "1", "stock": 1})
    assert err.value.field == "name"
    db.session.rollback()


def test_same_name_allowed_in_another_shop_and_after_soft_delete(make_shop, make_product):
    shop = make_shop()
    first = make_product(shop=shop, name="Red Mug")
    make_product(name="Red Mug")  # another shop
    products.delete_product(shop.owner, first.id)
    db.session.commit()
    again = make_product(shop=shop, name="Red Mug")
    assert again.id != first.id
    # Restoring the first while the second is live would duplicate the name: refused, nothing lost.
    with pytest.raises(Conflict):
        products.restore_product(shop.owner, first.id)
    db.session.rollback()
    assert db.session.get(Product, first.id).deleted_at is not None


def test_category_cycle_is_invalid(make_user, make_category):
    owner = make_user()
    root = make_category(owner=owner, name="Root")
    child = make_category(owner=owner, name="Child", parent_id=root.id)
    grandchild = make_category(owner=owner, name="Grandchild", parent_id=child.id)
    for parent in (root.id, grandchild.id):
        with pytest.raises(Invalid) as err:
            categories.update_category(owner, root.id, {"parent_id": parent})
        assert err.value.field == "parent_id"
        db.session.rollback()
    assert categories.get_category(root.id).parent_id is None


def test_sibling_category_names_are_unique_case_insensitively(make_user, make_category):
    owner = make_user()
    root = make_category(owner=owner, name="Kitchen")
    make_category(owner=owner, name="Mugs", parent_id=root.id)
    with pytest.raises(Conflict):
        categories.create_category(owner, {"name": "MUGS", "parent_id": root.id})
    db.session.rollback()
    with pytest.raises(Conflict):
        categories.create_category(owner, {"name": "kitchen"})  # roots are siblings too
    db.session.rollback()
    other_root = make_category(owner=owner, name="Garden")
    assert categories.create_category(owner, {"name": "Mugs", "parent_id": other_root.id}).id


@pytest.mark.parametrize("price", ["0.10", "19.99", "999999.99", "1000000", "0"])
def test_prices_round_trip_exactly(make_product, price):
    product = make_product(price=price)
    db.session.expire_all()
    stored = db.session.get(Product, product.id).price
    assert isinstance(stored, Decimal)
    assert stored == Decimal(price)
    assert str(stored) == str(Decimal(price).quantize(Decimal("0.01")))


def test_price_arithmetic_stays_exact(make_product):
    product = make_product(price=Decimal("0.10"))
    db.session.expire_all()
    stored = db.session.get(Product, product.id).price
    assert stored * 3 == Decimal("0.30")
    assert str(stored * 3) == "0.30"


def test_price_filters_and_sorts_are_exact_in_sql(make_shop, make_product):
    shop = make_shop()
    for price in ("0.10", "0.20", "0.30", "10.00"):
        make_product(shop=shop, price=price)
    got = db.session.scalars(select(Product.price).where(Product.price == Decimal("0.30"))).all()
    assert got == [Decimal("0.30")]
    ordered = db.session.scalars(select(Product.price).order_by(Product.price.desc())).all()
    assert ordered == [Decimal("10.00"), Decimal("0.30"), Decimal("0.20"), Decimal("0.10")]


@pytest.mark.parametrize("bad", ["-0.01", "1.001", "NaN", "Infinity", "abc", "1000000.01", 1.5, True])
def test_bad_prices_are_invalid(make_shop, bad):
    shop = make_shop()
    with pytest.raises(Invalid) as err:
        products.create_product(shop.owner, {"shop_id": shop.id, "name": "X", "price": bad, "stock": 1})
    assert err.value.field == "price"
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Product)) == 0
