"""The owner's dashboard: shops, products (forms, inline edits, stale saves), categories, and other owners' rows."""

import re
from decimal import Decimal

import pytest

from shopapp.categories.models import Category
from shopapp.extensions import db
from shopapp.products.models import Product
from shopapp.products.services import delete_product, update_product
from shopapp.shops.models import Shop
from tests.pages.conftest import HTMX, csrf_token, post, text


def test_dashboard_needs_login(client):
    for path in ("/dashboard/", "/dashboard/shops/new", "/dashboard/categories/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_htmx_requests_without_login_redirect_the_whole_page(client):
    response = client.get(
        "/dashboard/products/1/quick",
        headers={**HTMX, "HX-Current-URL": "http://localhost/dashboard/shops/1/products?q=a"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/dashboard/shops/1/products?q%3Da"


def test_empty_dashboard_invites_to_create_a_shop(client, owner):
    body = text(client.get("/dashboard/"))
    assert "You have no shops yet" in body and "Create shop" in body


def test_create_edit_delete_undo_a_shop(client, owner, fresh):
    form = text(client.get("/dashboard/shops/new"))
    for label in ("Name", "Description", "Address", "Email", "Phone"):
        assert f">{label}</label>" in form
    refused = post(client, "/dashboard/shops/new", {"name": "Ann", "email": "not-an-email"})
    assert refused.status_code == 422
    assert 'id="email-error"' in text(refused) and 'value="Ann"' in text(refused)

    created = post(client, "/dashboard/shops/new", {"name": "Ann's Attic", "phone": "+44 20 1234", "is_active": "y"})
    shop = fresh(Shop, 1)
    assert created.headers["Location"] == f"/dashboard/shops/{shop.id}/products"
    assert shop.owner_id == owner.id and shop.phone == "+44 20 1234"

    assert 'value="Ann&#39;s Attic"' in text(client.get(f"/dashboard/shops/{shop.id}/edit"))
    post(client, f"/dashboard/shops/{shop.id}/edit", {"name": "Ann's Loft"})  # "Active" unticked
    shop = fresh(Shop, shop.id)
    assert shop.name == "Ann's Loft" and shop.is_active is False

    deleted = post(client, f"/dashboard/shops/{shop.id}/delete", follow_redirects=True)
    body = text(deleted)
    assert "Shop “Ann&#39;s Loft” deleted." in body
    assert f'action="/dashboard/shops/{shop.id}/restore"' in body and ">Undo</button>" in body
    assert "You have no shops yet" in body
    assert "Ann&#39;s Loft" in text(client.get("/dashboard/shops/deleted"))

    restored = post(client, f"/dashboard/shops/{shop.id}/restore", follow_redirects=True)
    assert "restored" in text(restored)
    assert fresh(Shop, shop.id).deleted_at is None


def test_product_create_with_errors_then_success(client, owner, make_shop, make_category, fresh):
    shop = make_shop(owner, name="Attic")
    mugs = make_category(owner, name="Mugs")
    page = text(client.get(f"/dashboard/shops/{shop.id}/products/new"))
    for label in ("Name", "Description", "Price", "Stock", "Category"):
        assert f">{label}</label>" in page
    assert 'type="checkbox" value="y"> Active</label>' in page
    refused = post(client, f"/dashboard/shops/{shop.id}/products/new", {"name": "Mug", "price": "1.999", "stock": "2"})
    assert refused.status_code == 422
    assert 'id="price-error"' in text(refused) and "at most 2 decimal places" in text(refused)
    assert 'value="Mug"' in text(refused)

    data = {"name": "Mug", "price": "9.50", "stock": "4", "category_id": str(mugs.id), "is_active": "y"}
    created = post(client, f"/dashboard/shops/{shop.id}/products/new", data, follow_redirects=True)
    assert "Product “Mug” created." in text(created)
    assert "€9.50" in text(created) and "Mugs" in text(created)
    product = fresh(Product, 1)
    assert (product.price, product.stock, product.category_id) == (Decimal("9.50"), 4, mugs.id)

    duplicate = post(client, f"/dashboard/shops/{shop.id}/products/new", data)
    assert duplicate.status_code == 422 and "already has a product with this name" in text(duplicate)


def test_products_table_search_and_status_filters(client, owner, make_shop, make_product):
    shop = make_shop(owner)
    make_product(shop, name="Red Mug")
    make_product(shop, name="Green Vase")
    make_product(shop, name="Old Mug", is_active=False)
    table = text(client.get(f"/dashboard/shops/{shop.id}/products?q=mug", headers=HTMX))
    assert "<html" not in table and "Red Mug" in table and "Green Vase" not in table and "Old Mug" not in table
    inactive = text(client.get(f"/dashboard/shops/{shop.id}/products?status=inactive"))
    assert "Old Mug" in inactive and "Red Mug" not in inactive


def test_full_edit_form_refuses_a_stale_save_and_keeps_the_typing(client, owner, make_shop, make_product, fresh, app):
    product = make_product(make_shop(owner), name="Lamp", price=Decimal("10.00"), stock=1)
    form = text(client.get(f"/dashboard/products/{product.id}/edit"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)

    with app.app_context():  # someone else saves meanwhile
        update_product(owner, product.id, {"price": Decimal("11.00")})
        db.session.commit()

    mine = {"name": "Lamp", "price": "15.00", "stock": "7", "version": version, "description": "Brass"}
    stale = post(client, f"/dashboard/products/{product.id}/edit", mine)
    body = text(stale)
    assert stale.status_code == 422
    assert "changed meanwhile" in body and "€11.00" in body
    assert 'value="15.00"' in body and 'value="7"' in body and "Brass" in body
    current_version = fresh(Product, product.id).version
    assert f'name="version" type="hidden" value="{current_version}"' in body
    assert fresh(Product, product.id).price == Decimal("11.00")

    saved = post(client, f"/dashboard/products/{product.id}/edit", {**mine, "version": str(current_version)})
    assert saved.status_code == 302
    assert fresh(Product, product.id).price == Decimal("15.00")


def test_inline_edit_swaps_a_row_and_saves(client, owner, make_shop, make_product, fresh):
    product = make_product(make_shop(owner), name="Kettle", price=Decimal("20.00"), stock=2)
    url = f"/dashboard/products/{product.id}/quick"
    table = text(client.get(f"/dashboard/shops/{product.shop_id}/products"))
    assert f'href="/dashboard/products/{product.id}/edit"\n       hx-get="{url}"' in table

    assert client.get(url).headers["Location"] == f"/dashboard/products/{product.id}/edit"  # without htmx
    row_form = text(client.get(url, headers=HTMX))
    assert row_form.lstrip().startswith('<tr id="product-') and "<html" not in row_form
    assert f'name="p{product.id}-stock"' in row_form and ">Stock</label>" in row_form

    p = f"p{product.id}-"
    refused = post(client, url, {p + "price": "-1", p + "stock": "3", p + "version": "1"}, headers=HTMX)
    assert refused.status_code == 422
    assert "must be at least 0" in text(refused) and 'id="product-' in text(refused)

    saved = post(
        client, url, {p + "price": "18.00", p + "stock": "9", p + "is_active": "y", p + "version": "1"}, headers=HTMX
    )
    assert saved.status_code == 200
    assert "€18.00" in text(saved) and '<td data-label="Stock">9</td>' in text(saved) and "Saved" in text(saved)
    assert fresh(Product, product.id).stock == 9

    stale = post(client, url, {p + "price": "1.00", p + "stock": "1", p + "version": "1"}, headers=HTMX)
    assert stale.status_code == 422 and "changed meanwhile" in text(stale) and 'value="1.00"' in text(stale)

    cancel = text(client.get(f"/dashboard/products/{product.id}/row", headers=HTMX))
    assert "€18.00" in cancel and "Quick edit" in cancel


def test_product_delete_undo_and_deleted_view(client, owner, make_shop, make_product, fresh):
    product = make_product(make_shop(owner), name="Vase")
    deleted = post(client, f"/dashboard/products/{product.id}/delete", follow_redirects=True)
    body = text(deleted)
    assert "Product “Vase” deleted." in body and f'action="/dashboard/products/{product.id}/restore"' in body
    assert client.get(f"/products/{product.id}").status_code == 404
    in_bin = text(client.get(f"/dashboard/shops/{product.shop_id}/products?status=deleted"))
    assert "Vase" in in_bin and ">Restore</button>" in in_bin
    post(client, f"/dashboard/products/{product.id}/restore")
    assert fresh(Product, product.id).deleted_at is None
    assert client.get(f"/products/{product.id}", follow_redirects=True).status_code == 200


def test_restore_refused_while_the_name_is_taken(client, owner, make_shop, make_product, fresh):
    shop = make_shop(owner)
    old = make_product(shop, name="Vase")
    post(client, f"/dashboard/products/{old.id}/delete")
    make_product(shop, name="Vase")
    refused = post(client, f"/dashboard/products/{old.id}/restore", follow_redirects=True)
    assert "cannot be restored" in text(refused)
    assert fresh(Product, old.id).deleted_at is not None


def test_restoring_what_is_not_deleted_is_a_409_in_its_own_words(client, owner, make_shop, make_product, fresh):
    """A second click on Undo, or a restore already done in another tab: not "page not found"."""
    shop = make_shop(owner, name="Mugs")
    product = make_product(shop, name="Vase")
    for url, message in (
        (f"/dashboard/products/{product.id}/restore", "This product is not deleted."),
        (f"/dashboard/shops/{shop.id}/restore", "This shop is not deleted."),
    ):
        page = post(client, url)
        assert page.status_code == 409 and page.mimetype == "text/html"
        assert f"<p>{message}</p>" in text(page) and "could not find" not in text(page)
        fragment = post(client, url, headers=HTMX)
        assert fragment.status_code == 409 and fragment.headers["HX-Retarget"] == "#request-error"
        assert message in text(fragment) and "<html" not in text(fragment)
    assert fresh(Product, product.id).deleted_at is None and fresh(Shop, shop.id).deleted_at is None


def test_categories_create_rename_and_refused_delete(client, owner, make_shop, make_product, fresh):
    page = text(client.get("/dashboard/categories/"))
    assert ">Name</label>" in page and "Create category" in page
    post(client, "/dashboard/categories/", {"name": "Home"})
    home = fresh(Category, 1)
    post(client, "/dashboard/categories/", {"name": "Lamps", "parent_id": str(home.id)})
    lamps = fresh(Category, 2)
    assert lamps.parent_id == home.id
    dup = post(client, "/dashboard/categories/", {"name": "home"})
    assert dup.status_code == 422 and "already exists" in text(dup)

    post(client, f"/dashboard/categories/{lamps.id}/edit", {"name": "Lights", "parent_id": str(home.id)})
    assert fresh(Category, lamps.id).name == "Lights"

    make_product(make_shop(owner), name="Desk lamp", category_id=lamps.id)
    refused = post(client, f"/dashboard/categories/{lamps.id}/delete", follow_redirects=True)
    assert "Products still use this category" in text(refused)
    refused = post(client, f"/dashboard/categories/{home.id}/delete", follow_redirects=True)
    assert "still has subcategories" in text(refused)
    assert fresh(Category, home.id) is not None


@pytest.fixture
def others(app, make_user, make_shop, make_product, make_category):  # type: ignore[no-untyped-def]
    """Another owner's live shop, product and category, and a deleted product."""
    bob = make_user(email="bob@example.com")
    shop = make_shop(bob, name="Bob's")
    product = make_product(shop, name="Bob's Lamp")
    gone = make_product(shop, name="Bob's Old Lamp")
    with app.app_context():
        delete_product(bob, gone.id)
        db.session.commit()
    return {"shop": shop, "product": product, "gone": gone, "category": make_category(bob, name="Bob's things")}


def test_another_owners_rows_are_404_whatever_the_url(client, owner, others, fresh):
    shop, product, gone, category = others["shop"].id, others["product"].id, others["gone"].id, others["category"].id
    gets = [
        f"/dashboard/shops/{shop}/edit",
        f"/dashboard/shops/{shop}/products",
        f"/dashboard/shops/{shop}/products/new",
        f"/dashboard/products/{product}/edit",
        f"/dashboard/products/{product}/row",
        f"/dashboard/products/{product}/quick",
        f"/dashboard/categories/{category}/edit",
    ]
    for path in gets:
        assert client.get(path, headers=HTMX).status_code == 404, path
    posts = [
        f"/dashboard/shops/{shop}/edit",
        f"/dashboard/shops/{shop}/delete",
        f"/dashboard/shops/{shop}/restore",
        f"/dashboard/shops/{shop}/products/new",
        f"/dashboard/products/{product}/edit",
        f"/dashboard/products/{product}/quick",
        f"/dashboard/products/{product}/delete",
        f"/dashboard/products/{gone}/restore",
        f"/dashboard/categories/{category}/edit",
        f"/dashboard/categories/{category}/delete",
    ]
    for path in posts:
        response = post(client, path, {"name": "Mine now", "price": "0", "stock": "0"}, headers=HTMX)
        assert response.status_code == 404, path
        assert "We could not find that page" in text(response)
    assert fresh(Shop, shop).name == "Bob's" and fresh(Shop, shop).deleted_at is None
    assert fresh(Product, product).name == "Bob's Lamp" and fresh(Product, gone).deleted_at is not None
    assert fresh(Category, category).name == "Bob's things"


def test_htmx_sends_the_token_in_a_header(client, owner, make_shop, make_product):
    product = make_product(make_shop(owner), name="Stool", stock=1)
    p = f"p{product.id}-"
    data = {p + "price": "5.00", p + "stock": "2", p + "version": str(product.version)}
    headers = {**HTMX, "X-CSRFToken": csrf_token(client)}
    response = client.post(f"/dashboard/products/{product.id}/quick", data=data, headers=headers)
    assert response.status_code == 200 and '<td data-label="Stock">2</td>' in text(response)


def test_another_sessions_token_is_refused(app, client, owner, make_shop, fresh):
    shop = make_shop(owner)
    foreign = csrf_token(app.test_client())
    response = client.post(f"/dashboard/shops/{shop.id}/delete", data={"csrf_token": foreign})
    assert response.status_code == 400
    assert fresh(Shop, shop.id).deleted_at is None


def test_every_html_post_route_refuses_a_missing_token(app, client, owner, others):
    """Walks the URL map, so a new form route cannot forget its CSRF check."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<[^>]*{arg}>", "1", url)
        for headers in ({}, HTMX):
            response = client.post(url, data={"name": "x"}, headers=headers)
            assert response.status_code == 400, f"{rule.rule} {headers}"
            assert "could not be understood" in text(response)
        checked += 1
    assert checked >= 15


def test_another_owner_cannot_hang_a_subcategory_under_mine(client, owner, auth, make_user, make_category, fresh, app):
    """Issue 12 item 9: the parent <select> offers only one's own categories, and the service refuses the rest."""
    alice = make_user(email="alice@example.com")
    kitchen = make_category(alice, name="Kitchen")
    mine = make_category(owner, name="Mine")
    page = text(client.get("/dashboard/categories/"))
    assert "Mine</option>" in page and "Kitchen</option>" not in page
    refused = post(client, "/dashboard/categories/", {"name": "Spam", "parent_id": str(kitchen.id)})
    assert refused.status_code == 422
    refused = post(client, f"/dashboard/categories/{mine.id}/edit", {"name": "Mine", "parent_id": str(kitchen.id)})
    assert refused.status_code == 422
    assert fresh(Category, mine.id).parent_id is None
    with app.app_context():
        assert db.session.query(Category).filter_by(parent_id=kitchen.id).count() == 0


def test_other_owners_products_cannot_block_my_delete_page(
    client, owner, make_user, make_category, make_shop, make_product, fresh
):
    kitchen = make_category(owner, name="Kitchen")
    product = make_product(make_shop(make_user(email="bob@example.com")), category_id=kitchen.id)
    done = post(client, f"/dashboard/categories/{kitchen.id}/delete", follow_redirects=True)
    assert "Category “Kitchen” deleted." in text(done)
    assert fresh(Product, product.id).category_id is None
