"""Public shop pages: the list of shops and each shop with its searchable products."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from shopapp.core.cache import shared
from shopapp.core.htmx import render
from shopapp.core.routing import ID, canonical_redirect, requested_page, viewer
from shopapp.products.forms import CATALOG_PER_PAGE, CatalogForm
from shopapp.products.services import search_catalog
from shopapp.shops.services import get_visible_shop, list_shops

bp = Blueprint("shops", __name__)
SHOPS_PER_PAGE = 24


@bp.get("/shops")
@shared
def index() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    page = list_shops(q=q or None, page=requested_page(SHOPS_PER_PAGE), per_page=SHOPS_PER_PAGE)
    return render("shops/index.html", "shops/_list.html", page=page, q=q)


@bp.get(f"/shops/<{ID}:ident>")
@bp.get(f"/shops/<{ID}:ident>-<slug>")
@shared
def detail(ident: int, slug: str | None = None) -> ResponseReturnValue:
    shop = get_visible_shop(ident, viewer())
    moved = canonical_redirect("shops.detail", shop.id, shop.slug, slug)
    if moved is not None:
        return moved
    form = CatalogForm(formdata=request.args, with_shop=False)
    form.validate()
    page = search_catalog(form.to_query(page=requested_page(CATALOG_PER_PAGE), shop_id=shop.id))
    return render(
        "shops/detail.html",
        "products/_results.html",
        shop=shop,
        form=form,
        page=page,
        empty_text="This shop has no products in the catalog yet.",
    )
