"""Shops, categories and products through their services: ownership, soft delete, listing."""

from decimal import Decimal

import pytest

from shopapp.auth import services as auth
from shopapp.catalog.query import CatalogQuery, search_catalog
from shopapp.categories import services as categories
from shopapp.core.errors import Conflict, Forbidden, Invalid, NotDeleted, NotFound, PreconditionFailed, Refused
from shopapp.extensions import db
from shopapp.products import services as products
from shopapp.shops import services as shops

pytestmark = pytest.mark.usefixtures("app_ctx")  # the services, called directly


def test_shop_lifecycle_and_ownership(make_user):
    owner, other = make_user(), make_user()
    shop = shops.create_shop(
        owner, {"name": "  Corner   Shop ", "email": "Hi@Corner.example.com", "phone": "+44 (0) 20 7946 0000"}
    )
    db.session.commit()
    assert (shop.name, shop.slug, shop.email) == ("Corner Shop", "corner-shop", "hi@corner.example.com")
    with pytest.raises(Forbidden):
        shops.update_shop(other, shop.id, {"name": "Mine now"})
    with pytest.raises(Invalid) as err:
        shops.update_shop(owner, shop.id, {"owner_id": other.id})
    assert err.value.field == "owner_id"
    shops.update_shop(owner, shop.id, {"name": "Corner Store"})
    shops.delete_shop(owner, shop.id)
    db.session.commit()
    assert shops.list_shops().total == 0
    with pytest.raises(NotFound):
        shops.get_visible_shop(shop.id)
    with pytest.raises(NotFound):  # a deleted shop is not revealed to others
        shops.update_shop(other, shop.id, {"name": "x"})
    assert [s.id for s in shops.list_own_shops(owner, deleted=True)] == [shop.id]
    shops.restore_shop(owner, shop.id)
    db.session.commit()
    assert [s.name for s in shops.list_shops().items] == ["Corner Store"]


def test_inactive_shop_is_hidden_from_others_but_not_its_owner(make_user, make_shop):
    owner, other = make_user(), make_user()
    shop = make_shop(owner=owner, is_active=False)
    assert shops.get_visible_shop(shop.id, owner).id == shop.id
    with pytest.raises(NotFound):
        shops.get_visible_shop(shop.id, other)
    with pytest.raises(NotFound):
        shops.get_owned_shop(other, shop.id)


def test_list_shops_search_filters_and_pages(make_user, make_shop):
    ann, bob = make_user(), make_user()
    for name in ("Apple Barn", "Books 50% off", "Cider House"):
        make_shop(owner=ann, name=name)
    make_shop(owner=bob, name="Apple Annex")
    assert [s.name for s in shops.list_shops(q="apple").items] == ["Apple Annex", "Apple Barn"]
    assert [s.name for s in shops.list_shops(q="50%").items] == ["Books 50% off"]
    assert shops.list_shops(q="%").total == 1
    page = shops.list_shops(owner_id=ann.id, per_page=2, page=2)
    assert (page.total, page.pages, [s.name for s in page.items]) == (3, 2, ["Cider House"])
    assert shops.list_shops(page=5).items == []
    with pytest.raises(Invalid):
        shops.list_shops(per_page=101)


def test_product_ownership_across_shops(make_user, make_shop, make_product):
    ann, bob = make_user(), make_user()
    ann_shop, bob_shop = make_shop(owner=ann), make_shop(owner=bob)
    with pytest.raises(Forbidden):
        products.create_product(bob, {"shop_id": ann_shop.id, "name": "Sneaky", "price": "1", "stock": 1})
    with pytest.raises(Invalid) as err:
        products.create_product(bob, {"shop_id": 9999, "name": "Ghost", "price": "1", "stock": 1})
    assert err.value.field == "shop_id"
    bob_product = make_product(shop=bob_shop)
    with pytest.raises(Forbidden):
        products.update_product(bob, bob_product.id, {"shop_id": ann_shop.id})
    with pytest.raises(Forbidden):
        products.update_product(ann, bob_product.id, {"price": "0"})
    db.session.rollback()
    assert db.session.get(type(bob_product), bob_product.id).shop_id == bob_shop.id


def test_product_update_with_version_check(make_product):
    product = make_product(price="5.00")
    owner = product.shop.owner
    version = product.version
    updated = products.update_product(owner, product.id, {"price": "6.50"}, expected_version=version)
    db.session.commit()
    assert updated.price == Decimal("6.50") and updated.version == version + 1
    with pytest.raises(PreconditionFailed):
        products.update_product(owner, product.id, {"price": "7.00"}, expected_version=version)
    db.session.rollback()
    assert db.session.get(type(product), product.id).price == Decimal("6.50")


def test_product_soft_delete_and_restore(make_product):
    product = make_product(name="Lamp")
    owner = product.shop.owner
    products.delete_product(owner, product.id)
    db.session.commit()
    assert search_catalog(CatalogQuery()).total == 0
    with pytest.raises(NotFound):
        products.get_visible_product(product.id)
    assert [p.id for p in products.list_user_products(owner, status="deleted").items] == [product.id]
    products.restore_product(owner, product.id)
    db.session.commit()
    assert [p.name for p in search_catalog(CatalogQuery()).items] == ["Lamp"]


def test_deleting_a_shop_takes_its_products_out_of_the_catalog(make_shop, make_product):
    shop = make_shop()
    make_product(shop=shop)
    shops.delete_shop(shop.owner, shop.id)
    db.session.commit()
    assert search_catalog(CatalogQuery()).total == 0


def test_adjust_stock_is_atomic_and_bounded(make_product):
    product = make_product(stock=3)
    owner = product.shop.owner
    assert products.adjust_stock(owner, product.id, -2).stock == 1
    with pytest.raises(Conflict):
        products.adjust_stock(owner, product.id, -2)
    db.session.commit()
    assert db.session.get(type(product), product.id).stock == 1


def test_catalog_filters_and_sorts(make_user, make_shop, make_category, make_product):
    owner = make_user()
    shop = make_shop(owner=owner)
    kitchen = make_category(owner=owner, name="Kitchen")
    mugs = make_category(owner=owner, name="Mugs", parent_id=kitchen.id)
    garden = make_category(owner=owner, name="Garden")
    make_product(shop=shop, name="Mug A", price="12.00", stock=0, category_id=mugs.id)
    make_product(shop=shop, name="Pan", price="30.00", stock=2, category_id=kitchen.id)
    make_product(shop=shop, name="Spade", price="20.00", stock=4, category_id=garden.id)

    def names(**kw):
        return [p.name for p in search_catalog(CatalogQuery(**kw)).items]

    assert names(category_id=kitchen.id, sort="name") == ["Mug A", "Pan"]
    assert names(min_price=Decimal("15"), sort="price_asc") == ["Spade", "Pan"]
    assert names(max_price=Decimal("20"), in_stock=True) == ["Spade"]
    assert names(sort="price_desc") == ["Pan", "Spade", "Mug A"]
    with pytest.raises(Invalid) as err:
        names(sort="cheapest")
    assert err.value.field == "sort"


def test_category_delete_refused_while_in_use(make_user, make_category, make_shop, make_product):
    owner, other = make_user(), make_user()
    root = make_category(owner=owner, name="Root")
    child = make_category(owner=owner, name="Child", parent_id=root.id)
    with pytest.raises(Forbidden):
        categories.delete_category(other, child.id)
    with pytest.raises(Conflict, match="subcategories"):
        categories.delete_category(owner, root.id)
    product = make_product(make_shop(owner), category_id=child.id)  # the owner's own: another's would move up
    with pytest.raises(Conflict, match="Products"):
        categories.delete_category(owner, child.id)
    products.delete_product(product.shop.owner, product.id)
    categories.delete_category(owner, child.id)
    db.session.commit()
    assert db.session.get(type(product), product.id).category_id is None
    assert [c.name for c in categories.list_categories().items] == ["Root"]


def test_child_categories_come_by_name_up_to_the_limit(make_user, make_category):
    owner = make_user()
    root = make_category(owner=owner, name="Root")
    for name in ("beta", "Gamma", "Alpha"):
        make_category(owner=owner, name=name, parent_id=root.id)
    make_category(owner=owner, name="Another root")
    assert [c.name for c in categories.child_categories(root.id, 100)] == ["Alpha", "beta", "Gamma"]
    assert [c.name for c in categories.child_categories(root.id, 2)] == ["Alpha", "beta"]


def test_category_tree_and_descendants(make_user, make_category):
    owner = make_user()
    a = make_category(owner=owner, name="A")
    b = make_category(owner=owner, name="B", parent_id=a.id)
    c = make_category(owner=owner, name="C", parent_id=b.id)
    d = make_category(owner=owner, name="D")
    assert sorted(categories.descendant_ids(a.id)) == sorted([a.id, b.id, c.id])
    assert categories.category_outline() == [(a.id, 0, "A"), (b.id, 1, "B"), (c.id, 2, "C"), (d.id, 0, "D")]
    assert [x.name for x in categories.ancestors(c)] == ["A", "B", "C"]
    with pytest.raises(Invalid):
        categories.create_category(owner, {"name": "Orphan", "parent_id": 424242})


def test_products_load_through_one_statement_with_the_id_as_a_parameter(make_product):
    ids = [make_product(name=name).id for name in ("First", "Second")]
    db.session.expunge_all()
    assert [products.get_visible_product(product_id).name for product_id in reversed(ids)] == ["Second", "First"]
    assert products._load_statement() is products._load_statement()
    with pytest.raises(NotFound):
        products.get_visible_product(max(ids) + 1000)


def _refused_fields(call) -> list[str | None]:  # type: ignore[no-untyped-def]
    """The fields ``call`` refuses, each once, all of them ``Invalid`` in one ``Refused``."""
    with pytest.raises(Refused) as refused:
        call()
    problems = refused.value.problems
    assert refused.value.status == 422 and all(isinstance(problem, Invalid) for problem in problems)
    assert str(refused.value) == "; ".join(problem.message for problem in problems)
    return sorted(problem.field for problem in problems)


def test_services_refuse_with_every_problem_at_once_and_write_nothing(make_user, make_shop, monkeypatch):
    """The CLI and any caller get them all too: ``Refused`` lists each field's problem, in the services' words."""
    owner = make_user()
    shop, missing = make_shop(owner, name="Mugs"), 2**31 - 1
    monkeypatch.setattr("shopapp.auth.services.hash_password", lambda p: pytest.fail("hashed"))
    assert _refused_fields(lambda: auth.register("nope", "x" * 10**6, " ")) == ["email", "name", "password"]
    new_shop = {"email": "@", "phone": "?", "id": 3}
    assert _refused_fields(lambda: shops.create_shop(owner, new_shop)) == ["email", "id", "name", "phone"]
    changes = {"name": "", "is_active": "yes"}
    assert _refused_fields(lambda: shops.update_shop(owner, shop.id, changes)) == ["is_active", "name"]
    category = {"description": "\x00", "parent_id": 0}
    assert _refused_fields(lambda: categories.create_category(owner, category)) == ["description", "name", "parent_id"]
    product = {"shop_id": missing, "price": "1e3", "category_id": missing}
    fields = ["category_id", "name", "shop_id", "stock"]
    assert _refused_fields(lambda: products.create_product(owner, product)) == fields
    db.session.rollback()
    assert len(shops.list_own_shops(owner)) == 1 and products.list_user_products(owner).total == 0


def test_restoring_what_is_not_deleted_is_not_deleted(make_product):
    product = make_product()
    owner = product.shop.owner
    with pytest.raises(NotDeleted) as live_product:
        products.restore_product(owner, product.id)
    with pytest.raises(NotDeleted) as live_shop:
        shops.restore_shop(owner, product.shop_id)
    assert (live_product.value.message, live_shop.value.message, live_shop.value.status) == (
        "This product is not deleted.",
        "This shop is not deleted.",
        409,
    )
