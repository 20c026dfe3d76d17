"""The customer's catalog: search and filter products, and one page per product."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from shopapp.categories.services import ancestors
from shopapp.core.cache import shared
from shopapp.core.htmx import render
from shopapp.core.routing import ID, canonical_redirect, requested_page, viewer
from shopapp.products.forms import CATALOG_PER_PAGE, CatalogForm
from shopapp.products.services import get_visible_product, search_catalog

bp = Blueprint("products", __name__)


@bp.get("/products")
@bp.get("/")  # registered first, so links and searches use "/"
@shared
def catalog() -> ResponseReturnValue:
    """The whole catalog; htmx asks for the results only as the customer types or filters."""
    form = CatalogForm(formdata=request.args)
    form.validate()
    page = search_catalog(form.to_query(page=requested_page(CATALOG_PER_PAGE)))
    return render("products/catalog.html", "products/_results.html", form=form, page=page)


@bp.get(f"/products/<{ID}:ident>")
@bp.get(f"/products/<{ID}:ident>-<slug>")
@shared
def detail(ident: int, slug: str | None = None) -> ResponseReturnValue:
    product = get_visible_product(ident, viewer())
    moved = canonical_redirect("products.detail", product.id, product.slug, slug)
    if moved is not None:
        return moved
    crumbs = ancestors(product.category) if product.category else []
    return render_template("products/detail.html", product=product, crumbs=crumbs)
