"""The catalog's pages, what customers read: the home page (search and filters), a product, the shops and one
shop, a category. Every one is shared by all readers through the cache (core/cache/): the layout's personal parts
are filled in per request, and an owner's view of their inactive shop or product is never stored."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from shopapp.catalog import seo
from shopapp.catalog.forms import CATALOG_PER_PAGE, CatalogForm
from shopapp.catalog.query import related_products, search_catalog
from shopapp.categories.services import ancestors, child_categories, get_category
from shopapp.core.cache import not_for_others, shared
from shopapp.core.htmx import render, wants_fragment
from shopapp.core.routing import ID, canonical_redirect, requested_page, viewer
from shopapp.products.models import Product, ProductImage
from shopapp.products.services import get_visible_product
from shopapp.shops.services import get_visible_shop, list_shops

bp = Blueprint("catalog", __name__)
SHOPS_PER_PAGE = 24

# The pages' structured data for search engines (catalog/seo.py; the breadcrumb macro and the product page).
bp.add_app_template_global(seo.catalog_steps, "catalog_steps")
bp.add_app_template_global(seo.breadcrumb_ld, "breadcrumb_ld")
bp.add_app_template_global(seo.product_ld, "product_ld")
bp.add_app_template_global(seo.absolute, "absolute_url")


@bp.get("/products")
@bp.get("/")  # registered first, so links and searches use "/"
@shared
def index() -> ResponseReturnValue:
    """The whole catalog; htmx asks for the results only as the customer types or filters."""
    form = CatalogForm(formdata=request.args)
    form.validate()
    page = search_catalog(form.to_query(page=requested_page(CATALOG_PER_PAGE)))
    return render(
        "products/catalog.html", "products/_results.html", form=form, page=page, shop_filter_oob=wants_fragment()
    )


@bp.get(f"/products/<{ID}:ident>")
@bp.get(f"/products/<{ID}:ident>-<slug>")
@shared
def product(ident: int, slug: str | None = None) -> ResponseReturnValue:
    product = get_visible_product(ident, viewer())
    if not (product.is_active and product.shop.is_active):  # shown to its owner only
        not_for_others()
    moved = canonical_redirect("catalog.product", product.id, product.slug, slug)
    if moved is not None:
        return moved
    crumbs = ancestors(product.category) if product.category else []
    return render(
        "products/detail.html",
        "products/_gallery.html",
        product=product,
        shown=_chosen_image(product),
        crumbs=crumbs,
        related=related_products(product),
    )


def _chosen_image(product: Product) -> ProductImage | None:
    """The image the gallery shows large: ``?image=<id>`` (a thumbnail's link), else the first; an id that is not
    one of the product's (an image since deleted) shows the first too."""
    chosen = request.args.get("image", type=int)
    first = product.images[0] if product.images else None
    return next((image for image in product.images if image.id == chosen), first)


@bp.get("/shops")
@shared
def shops() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    page = list_shops(q=q or None, page=requested_page(SHOPS_PER_PAGE), per_page=SHOPS_PER_PAGE)
    return render("shops/index.html", "shops/_list.html", page=page, q=q)


@bp.get(f"/shops/<{ID}:ident>")
@bp.get(f"/shops/<{ID}:ident>-<slug>")
@shared
def shop(ident: int, slug: str | None = None) -> ResponseReturnValue:
    shop = get_visible_shop(ident, viewer())
    if not shop.is_active:  # shown to its owner only
        not_for_others()
    moved = canonical_redirect("catalog.shop", shop.id, shop.slug, slug)
    if moved is not None:
        return moved
    empty = "This shop has no products in the catalog yet."
    return _pinned_results("shops/detail.html", {"shop_id": shop.id}, empty, shop=shop)


@bp.get(f"/categories/<{ID}:ident>")
@bp.get(f"/categories/<{ID}:ident>-<slug>")
@shared
def category(ident: int, slug: str | None = None) -> ResponseReturnValue:
    category = get_category(ident)
    moved = canonical_redirect("catalog.category", category.id, category.slug, slug)
    if moved is not None:
        return moved
    return _pinned_results(
        "categories/detail.html",
        {"category_id": category.id},
        "No products in this category yet.",
        category=category,
        crumbs=ancestors(category),
        children=child_categories(category.id, 100),
    )


def _pinned_results(template: str, pinned: dict[str, int], empty_text: str, **context: Any) -> ResponseReturnValue:
    """A shop's or a category's page: the catalog form and results with that shop or category fixed (and its
    filter left out of the form)."""
    without = {"with_shop": "shop_id" not in pinned, "with_category": "category_id" not in pinned}
    form = CatalogForm(formdata=request.args, **without)
    form.validate()
    page = search_catalog(form.to_query(page=requested_page(CATALOG_PER_PAGE), **pinned))
    return render(template, "products/_results.html", form=form, page=page, empty_text=empty_text, **context)
