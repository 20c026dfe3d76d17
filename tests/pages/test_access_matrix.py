"""Every HTML route and method by {A owner, B other owner, C customer, N anonymous}, generated from the URL map
so a new page cannot be forgotten. A owns the targets (shop, product, category, image); B and C get 404
for them, never a page or a change, and a refused request leaves every row exactly as it was.
(The API has its own matrix: tests/api/test_ownership.py.)"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.extensions import db
from shopapp.media import services as media
from shopapp.orders import carts
from shopapp.orders import services as orders
from shopapp.orders.models import Order
from shopapp.products import imports
from shopapp.products.import_models import ProductImport
from shopapp.products.models import Product, ProductImage
from shopapp.shops.models import Shop
from tests.conftest import DEFAULT_PASSWORD, World, loaded
from tests.media.files import webp
from tests.pages.conftest import HTMX, Auth, csrf_token

IMPLIED = {"HEAD", "OPTIONS"}  # HEAD is GET without a body; Flask answers OPTIONS itself


@dataclass(frozen=True)
class Case:
    """Expected status per actor; ``N`` defaults to the login redirect of a dashboard page.

    ``data`` is the form a browser would send (the CSRF token is added); ``target`` is the row a
    refusal must leave untouched; ``htmx`` routes answer fragments, so they are asked as htmx asks.
    """

    path: Callable[[World], str]
    A: int
    B: int
    C: int
    N: int = 302
    data: Callable[[World], dict[str, Any]] | None = None
    target: Callable[[World], Any] | None = None
    htmx: bool = False


def public(path: Callable[[World], str]) -> Case:
    return Case(path, 200, 200, 200, 200)


def mine(path: Callable[[World], str], ok: int, data=None, target=None) -> Case:  # type: ignore[no-untyped-def]
    """A route on one of A's rows: A gets ``ok``, B and C a 404 whatever they send, N the login page."""
    return Case(path, ok, 404, 404, 302, data, target)


def canonical(path: Callable[[World], str]) -> Case:
    """A public page without its slug: everyone is sent to the canonical URL."""
    return Case(path, 301, 301, 301, 301)


def fragment(path: Callable[[World], str], data=None, target=None) -> Case:  # type: ignore[no-untyped-def]
    """An htmx fragment of one of A's rows; N gets 401 with ``HX-Redirect`` to the login page."""
    return Case(path, 200, 404, 404, 401, data, target, htmx=True)


def anyone_signed_in(path: Callable[[World], str], ok: int, data=None) -> Case:  # type: ignore[no-untyped-def]
    return Case(path, ok, ok, ok, 302, data)


def _product_form(w: World) -> dict[str, Any]:
    return {"name": "Mine now", "price": "0.01", "stock": "0", "version": str(w.product.version)}


def _quick_form(w: World) -> dict[str, Any]:
    p = f"p{w.product.id}-"
    return {p + "price": "0.01", p + "stock": "0", p + "version": str(w.product.version)}


_FRESH = itertools.count(1)  # category names are unique across the whole tree
ID = "<int:{}>"  # core/routing.py: ids_in_range 404s the ids no row can have
SHOP, PRODUCT, CATEGORY, IMAGE = (ID.format(n) for n in ("shop_id", "product_id", "category_id", "image_id"))
DETAIL, SLUG = ID.format("ident"), ID.format("ident") + "-<slug>"
ORDER = ID.format("order_id")
IMPORT = ID.format("import_id")

CASES: dict[tuple[str, str], Case] = {
    # Public pages: the same for everyone.
    ("/", "GET"): public(lambda w: "/"),
    ("/products", "GET"): public(lambda w: "/products"),
    (f"/products/{DETAIL}", "GET"): canonical(lambda w: f"/products/{w.product.id}"),
    (f"/products/{SLUG}", "GET"): public(lambda w: f"/products/{w.product.id}-mug"),
    ("/shops", "GET"): public(lambda w: "/shops"),
    (f"/shops/{DETAIL}", "GET"): canonical(lambda w: f"/shops/{w.shop.id}"),
    (f"/shops/{SLUG}", "GET"): public(lambda w: f"/shops/{w.shop.id}-a-s-shop"),
    (f"/categories/{DETAIL}", "GET"): canonical(lambda w: f"/categories/{w.category.id}"),
    (f"/categories/{SLUG}", "GET"): public(lambda w: f"/categories/{w.category.id}-a-s-category"),
    ("/media/<path:name>", "GET"): public(lambda w: "/media/" + media.rendition_name(w.image.storage_key, "small")),
    ("/healthz", "GET"): public(lambda w: "/healthz"),
    ("/robots.txt", "GET"): public(lambda w: "/robots.txt"),
    ("/favicon.ico", "GET"): canonical(lambda w: "/favicon.ico"),
    ("/sitemap.xml", "GET"): public(lambda w: "/sitemap.xml"),
    ("/sitemaps/<any(pages, categories, shops, products):name>-<int:number>.xml", "GET"): public(
        lambda w: "/sitemaps/products-1.xml"
    ),
    ("/readyz", "GET"): public(lambda w: "/readyz"),
    # Accounts: signed-in visitors are sent on from login and register; each actor acts on their own account.
    ("/login", "GET"): Case(lambda w: "/login", 302, 302, 302, 200),
    ("/login", "POST"): Case(lambda w: "/login", 422, 422, 422, 422, lambda w: {"email": "a@x.com", "password": "no"}),
    ("/register", "GET"): Case(lambda w: "/register", 302, 302, 302, 200),
    ("/register", "POST"): Case(
        lambda w: "/register", 302, 302, 302, 302, lambda w: {"name": "N", "email": "n@x.com", "password": "p" * 12}
    ),
    ("/logout", "POST"): Case(lambda w: "/logout", 302, 302, 302, 302),
    ("/account", "GET"): anyone_signed_in(lambda w: "/account", 200),
    ("/account/profile", "POST"): anyone_signed_in(lambda w: "/account/profile", 302, lambda w: {"name": "Renamed"}),
    ("/account/password", "POST"): anyone_signed_in(
        lambda w: "/account/password",
        302,
        lambda w: {"current_password": DEFAULT_PASSWORD, "new_password": "a brand new secret"},
    ),
    # The dashboard: everyone signed in has one (C's is empty), and creates rows of their own.
    ("/dashboard/", "GET"): anyone_signed_in(lambda w: "/dashboard/", 200),
    ("/dashboard/shops/new", "GET"): anyone_signed_in(lambda w: "/dashboard/shops/new", 200),
    ("/dashboard/shops/new", "POST"): anyone_signed_in(lambda w: "/dashboard/shops/new", 302, lambda w: {"name": "N"}),
    ("/dashboard/shops/deleted", "GET"): anyone_signed_in(lambda w: "/dashboard/shops/deleted", 200),
    ("/dashboard/products.csv", "GET"): anyone_signed_in(lambda w: "/dashboard/products.csv", 200),  # one's own
    ("/dashboard/categories/", "GET"): anyone_signed_in(lambda w: "/dashboard/categories/", 200),
    ("/dashboard/categories/", "POST"): anyone_signed_in(
        lambda w: "/dashboard/categories/", 302, lambda w: {"name": f"New {next(_FRESH)}", "parent_id": ""}
    ),
    # A's rows: only A may see or touch them.
    (f"/dashboard/shops/{SHOP}/edit", "GET"): mine(lambda w: f"/dashboard/shops/{w.shop.id}/edit", 200),
    (f"/dashboard/shops/{SHOP}/edit", "POST"): mine(
        lambda w: f"/dashboard/shops/{w.shop.id}/edit", 302, lambda w: {"name": "Mine now"}, lambda w: w.shop
    ),
    (f"/dashboard/shops/{SHOP}/delete", "POST"): mine(
        lambda w: f"/dashboard/shops/{w.shop.id}/delete", 302, target=lambda w: w.shop
    ),
    (f"/dashboard/shops/{SHOP}/restore", "POST"): mine(
        lambda w: f"/dashboard/shops/{w.deleted_shop.id}/restore", 302, target=lambda w: w.deleted_shop
    ),
    (f"/dashboard/shops/{SHOP}/products", "GET"): mine(lambda w: f"/dashboard/shops/{w.shop.id}/products", 200),
    (f"/dashboard/shops/{SHOP}/products/new", "GET"): mine(lambda w: f"/dashboard/shops/{w.shop.id}/products/new", 200),
    (f"/dashboard/shops/{SHOP}/products/new", "POST"): mine(
        lambda w: f"/dashboard/shops/{w.shop.id}/products/new",
        302,
        lambda w: {"name": "Planted", "price": "1.00", "stock": "1"},
        lambda w: w.shop,
    ),
    (f"/dashboard/shops/{SHOP}/products/bulk", "POST"): mine(
        lambda w: f"/dashboard/shops/{w.shop.id}/products/bulk",
        302,
        lambda w: {"action": "deactivate", "scope": "page", "page_ids": str(w.product.id)},
        lambda w: w.product,
    ),
    (f"/dashboard/shops/{SHOP}/products/bulk/undo/<at>", "POST"): mine(
        # A bulk delete's time (microseconds since 1970) that deleted nothing: A is told so, B and C get a 404.
        lambda w: f"/dashboard/shops/{w.deleted_product.shop_id}/products/bulk/undo/1",
        302,
        target=lambda w: w.deleted_product,
    ),
    (f"/dashboard/products/{PRODUCT}/edit", "GET"): mine(lambda w: f"/dashboard/products/{w.product.id}/edit", 200),
    (f"/dashboard/products/{PRODUCT}/edit", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/edit", 302, _product_form, lambda w: w.product
    ),
    (f"/dashboard/products/{PRODUCT}/quick", "GET"): fragment(lambda w: f"/dashboard/products/{w.product.id}/quick"),
    (f"/dashboard/products/{PRODUCT}/quick", "POST"): fragment(
        lambda w: f"/dashboard/products/{w.product.id}/quick", _quick_form, lambda w: w.product
    ),
    (f"/dashboard/products/{PRODUCT}/stock", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/stock", 302, lambda w: {"delta": "3"}, lambda w: w.product
    ),
    (f"/dashboard/products/{PRODUCT}/row", "GET"): fragment(lambda w: f"/dashboard/products/{w.product.id}/row"),
    (f"/dashboard/products/{PRODUCT}/delete", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/delete", 302, target=lambda w: w.product
    ),
    (f"/dashboard/products/{PRODUCT}/restore", "POST"): mine(
        lambda w: f"/dashboard/products/{w.deleted_product.id}/restore", 302, target=lambda w: w.deleted_product
    ),
    (f"/dashboard/products/{PRODUCT}/images", "GET"): mine(lambda w: f"/dashboard/products/{w.product.id}/images", 200),
    (f"/dashboard/products/{PRODUCT}/images", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/images",
        302,
        lambda w: {"images": (io.BytesIO(webp()), "x.webp"), "alt": "planted"},
        lambda w: w.product,
    ),
    (f"/dashboard/products/{PRODUCT}/images/{IMAGE}/move", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/images/{w.image.id}/move",
        302,
        lambda w: {"position": "0"},
        lambda w: w.image,
    ),
    (f"/dashboard/products/{PRODUCT}/images/{IMAGE}/alt", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/images/{w.image.id}/alt",
        302,
        lambda w: {"alt": "planted"},
        lambda w: w.image,
    ),
    (f"/dashboard/products/{PRODUCT}/images/{IMAGE}/delete", "GET"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/images/{w.image.id}/delete", 200
    ),
    (f"/dashboard/products/{PRODUCT}/images/{IMAGE}/delete", "POST"): mine(
        lambda w: f"/dashboard/products/{w.product.id}/images/{w.image.id}/delete", 302, target=lambda w: w.image
    ),
    (f"/dashboard/categories/{CATEGORY}/edit", "GET"): mine(
        lambda w: f"/dashboard/categories/{w.category.id}/edit", 200
    ),
    (f"/dashboard/categories/{CATEGORY}/edit", "POST"): mine(
        lambda w: f"/dashboard/categories/{w.category.id}/edit",
        302,
        lambda w: {"name": "Mine now", "parent_id": ""},
        lambda w: w.category,
    ),
    (f"/dashboard/categories/{CATEGORY}/delete", "POST"): mine(
        lambda w: f"/dashboard/categories/{w.category.id}/delete", 302, target=lambda w: w.category
    ),
    # Carts: everyone has one (an anonymous visitor's kept with the session), each their own.
    ("/cart", "GET"): public(lambda w: "/cart"),
    ("/cart/add", "POST"): Case(lambda w: "/cart/add", 302, 302, 302, 302, lambda w: {"product_id": w.product.id}),
    (f"/cart/items/{PRODUCT}", "POST"): Case(
        lambda w: f"/cart/items/{w.product.id}", 302, 302, 302, 302, lambda w: {"quantity": "1"}
    ),
    (f"/cart/items/{PRODUCT}/remove", "POST"): Case(lambda w: f"/cart/items/{w.product.id}/remove", 302, 302, 302, 302),
    # Checkout needs an account (an empty cart goes back to the cart page); C placed ``w.order`` at A's shop.
    ("/checkout", "GET"): anyone_signed_in(lambda w: "/checkout", 302),
    ("/checkout", "POST"): anyone_signed_in(lambda w: "/checkout", 302, lambda w: {"name": "N"}),
    ("/checkout/place", "POST"): anyone_signed_in(lambda w: "/checkout/place", 302),
    (f"/checkout/{ID.format('checkout_id')}/confirmation", "GET"): Case(
        lambda w: f"/checkout/{w.order.checkout_id}/confirmation", 404, 404, 200
    ),
    ("/account/orders", "GET"): anyone_signed_in(lambda w: "/account/orders", 200),
    (f"/account/orders/{ORDER}", "GET"): Case(lambda w: f"/account/orders/{w.order.id}", 404, 404, 200),
    (f"/account/orders/{ORDER}/cancel", "POST"): Case(
        lambda w: f"/account/orders/{w.order.id}/cancel", 404, 404, 302, target=lambda w: w.order
    ),
    # A's shop's orders: the owner's dashboard; the buyer (C) reads theirs under /account/orders.
    (f"/dashboard/shops/{SHOP}/orders", "GET"): mine(lambda w: f"/dashboard/shops/{w.shop.id}/orders", 200),
    (f"/dashboard/shops/{SHOP}/orders.csv", "GET"): mine(lambda w: f"/dashboard/shops/{w.shop.id}/orders.csv", 200),
    (f"/dashboard/shops/{SHOP}/products.csv", "GET"): mine(lambda w: f"/dashboard/shops/{w.shop.id}/products.csv", 200),
    (f"/dashboard/orders/{ORDER}", "GET"): mine(lambda w: f"/dashboard/orders/{w.order.id}", 200),
    # A's CSV import into A's shop (an undo of one not applied is refused on the table, a 302 too).
    (f"/dashboard/shops/{SHOP}/products/import", "GET"): mine(
        lambda w: f"/dashboard/shops/{w.shop.id}/products/import", 200
    ),
    (f"/dashboard/shops/{SHOP}/products/import", "POST"): mine(
        lambda w: f"/dashboard/shops/{w.shop.id}/products/import",
        302,
        lambda w: {"file": (io.BytesIO(b"name,price,stock\r\nPlanted,1.00,1\r\n"), "p.csv")},
        lambda w: w.shop,
    ),
    (f"/dashboard/imports/{IMPORT}", "GET"): mine(lambda w: f"/dashboard/imports/{w.product_import.id}", 200),
    (f"/dashboard/imports/{IMPORT}/status", "GET"): mine(
        lambda w: f"/dashboard/imports/{w.product_import.id}/status", 200
    ),
    **{
        (f"/dashboard/imports/{IMPORT}/{step}", "POST"): mine(
            lambda w, step=step: f"/dashboard/imports/{w.product_import.id}/{step}",
            302,
            target=lambda w: w.product_import,
        )
        for step in ("apply", "cancel", "undo")
    },
    (f"/dashboard/orders/{ORDER}/<action>", "POST"): mine(
        lambda w: f"/dashboard/orders/{w.order.id}/mark_paid", 302, target=lambda w: w.order
    ),
}

# Anonymous requests to these end somewhere other than the login page, by design.
N_NOT_TO_LOGIN = {
    ("/logout", "POST"),
    ("/register", "POST"),
    ("/cart/add", "POST"),
    (f"/cart/items/{PRODUCT}", "POST"),
    (f"/cart/items/{PRODUCT}/remove", "POST"),
}


def _html_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.startswith("api.")
        for method in rule.methods or ()
        if method not in IMPLIED
    }


def test_every_html_route_is_in_the_matrix(app):
    """A new page or form route fails here until someone decides who may use it."""
    routes = _html_routes(app)
    assert not routes - set(CASES), f"routes missing from the matrix: {sorted(routes - set(CASES))}"
    assert not set(CASES) - routes, f"matrix entries without a route: {sorted(set(CASES) - routes)}"


@pytest.fixture
def world(app, make_world, make_user) -> World:  # type: ignore[no-untyped-def]
    """A's, with a second image (so "move" has somewhere to go); B's shop and product; C, a customer."""
    world = make_world(make_user(email="a@example.com", name="Ann Owner"), images=2)
    bob = make_user(email="b@example.com", name="Bob Other")
    make_world(bob, shop="B's shop", product="B's mug", category=None, images=0, deleted=False)
    cat = make_user(email="c@example.com", name="Cat Customer")
    with app.app_context():  # C bought A's product: one order at A's shop
        carts.add(carts.holder_for(cat, None), world.product.id, 1)
        address = {"name": "Cat", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
        placed = orders.checkout(cat, {"shipping_address": address})
        planned = imports.start_import(world.owner, world.shop.id, b"name,price,stock\r\nImported,1.00,1\r\n")
        imports.dry_run(world.owner, planned.id)  # A's import, checked and waiting
        db.session.commit()
        world.product_import = loaded(planned)  # type: ignore[attr-defined]
        world.order = loaded(placed.orders[0])  # type: ignore[attr-defined]
        world.product = loaded(db.session.get(Product, world.product.id), "shop.owner")  # its stock and version
    return world


def _row_counts(row_count) -> dict[str, int]:  # type: ignore[no-untyped-def]
    models = (User, Shop, Product, Category, ProductImage, Order, ProductImport)
    return {model.__name__: row_count(model) for model in models}


def _login(app, actor: str):  # type: ignore[no-untyped-def]
    """A browser of its own for ``actor``, signed in through the real form (none for N)."""
    client = app.test_client()
    if actor != "N":
        email = {"A": "a@example.com", "B": "b@example.com", "C": "c@example.com"}[actor]
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
        Auth(client).login(user)
    return client


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[1]} {r[0]}")
def test_page_access_matrix(app, world, snapshot, row_count, route):
    """The actors take turns on one world, A last, so the refusals are checked against untouched rows."""
    case, method = CASES[route], route[1]
    for actor in ("N", "C", "B", "A"):
        client = _login(app, actor)
        path, headers = case.path(world), HTMX if case.htmx else {}
        target = case.target(world) if case.target else None
        before, counts = (snapshot(target) if target is not None else None), _row_counts(row_count)

        if method == "GET":
            response = client.get(path, headers=headers)
        else:
            data = {"csrf_token": csrf_token(client), **(case.data(world) if case.data else {})}
            response = client.post(path, data=data, headers=headers, content_type="multipart/form-data")
        response.get_data()  # a streamed body (a CSV export) keeps its app context until it is read

        expected = getattr(case, actor)
        assert response.status_code == expected, f"{actor} {method} {path}: {response.get_data(as_text=True)[:500]}"
        sent_to = response.headers.get("HX-Redirect" if case.htmx else "Location", "")
        to_login = response.status_code in (302, 401) and sent_to.startswith("/login")
        assert to_login == (actor == "N" and route not in N_NOT_TO_LOGIN and expected in (302, 401)), actor
        if expected >= 400 or to_login:
            assert _row_counts(row_count) == counts, actor
            if target is not None:
                assert snapshot(target) == before, actor
