"""Public category pages: the products of a category and of everything below it."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from shopapp.categories.services import ancestors, child_categories, get_category
from shopapp.core.cache import shared
from shopapp.core.htmx import render
from shopapp.core.routing import ID, canonical_redirect, requested_page
from shopapp.products.forms import CATALOG_PER_PAGE, CatalogForm
from shopapp.products.services import search_catalog

bp = Blueprint("categories", __name__)


@bp.get(f"/categories/<{ID}:ident>")
@bp.get(f"/categories/<{ID}:ident>-<slug>")
@shared
def detail(ident: int, slug: str | None = None) -> ResponseReturnValue:
    category = get_category(ident)
    moved = canonical_redirect("categories.detail", category.id, category.slug, slug)
    if moved is not None:
        return moved
    form = CatalogForm(formdata=request.args, with_category=False)
    form.validate()
    page = search_catalog(form.to_query(page=requested_page(CATALOG_PER_PAGE), category_id=category.id))
    children = child_categories(category.id, 100)
    return render(
        "categories/detail.html",
        "products/_results.html",
        category=category,
        crumbs=ancestors(category),
        children=children,
        form=form,
        page=page,
        empty_text="No products in this category yet.",
    )
