"""The catalog's query compiler: what a customer asks (``CatalogQuery``) as one cached statement per shape,
full-text searched (catalog/search/), filtered, sorted and paged. The pages and the API both read through it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    select,
    union,
    union_all,
)

from shopapp.catalog.search import Relevance, Search, apply_search, prepare_search
from shopapp.categories.services import descendants
from shopapp.core import validation
from shopapp.core.errors import Invalid
from shopapp.core.pagination import DEFAULT_PER_PAGE, EXACT_TOTAL_UP_TO, Page, PageStatement, page_statement, run_page
from shopapp.extensions import db
from shopapp.products.models import Product
from shopapp.products.services import with_relations
from shopapp.shops.models import Shop

SORTS = ("relevance", "newest", "price_asc", "price_desc", "name")


def catalog_products() -> Select[Product]:
    """Products customers can see: active, not deleted, in an active shop that is not deleted."""
    return (
        select(Product)
        .join(Product.shop)
        .where(Product.is_active, Product.deleted_at.is_(None), Shop.is_active, Shop.deleted_at.is_(None))
    )


@dataclass(frozen=True)
class CatalogQuery:
    """What a customer asks of the catalog, the same from the pages and the API."""

    q: str | None = None
    category_id: int | None = None
    shop_id: int | None = None
    sku: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    sort: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


# The filters of a catalog query: each field's condition, on the parameter that holds its value.
_FILTERS: dict[str, Callable[[BindParameter[Any]], ColumnElement[bool]]] = {
    "category_id": lambda value: Product.category_id.in_(descendants(value)),  # type: ignore[arg-type]
    "shop_id": lambda value: Product.shop_id == value,
    "sku": lambda value: func.lower(Product.sku) == func.lower(value),
    "min_price": lambda value: Product.price >= value,
    "max_price": lambda value: Product.price <= value,
}

_ORDER: dict[str, tuple[ColumnElement[Any], ...]] = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price.asc(), Product.id.asc()),
    "price_desc": (Product.price.desc(), Product.id.desc()),
    "name": (Product.name.asc(), Product.id.asc()),
}


RELATED_LIMIT = 4


def related_products(product: Product, limit: int = RELATED_LIMIT) -> list[Product]:
    """Up to ``limit`` other products customers can see in ``product``'s own category, newest first (the category
    page's order); none for a product without a category."""
    if product.category_id is None:
        return []
    params = {"category_id": product.category_id, "product_id": product.id, "limit": limit}
    return list(db.session.scalars(_related_statement(), params).unique())


@lru_cache(maxsize=1)
def _related_statement() -> Select[Product]:
    stmt = catalog_products().where(
        Product.category_id == bindparam("category_id"), Product.id != bindparam("product_id")
    )
    return with_relations(stmt.order_by(*_ORDER["newest"]).limit(bindparam("limit", type_=Integer)))


def search_catalog(query: CatalogQuery) -> Page[Product]:
    """One page of the catalog, full-text searched by ``q`` (see catalog/search/), filtered and sorted.

    ``relevance`` orders by search rank, ties newest first; without words to search it is ``newest``.
    By relevance, a ``q`` that is a SKU (in any case) also finds the visible products with that SKU whatever their
    text, first (the other orders list what the words match). When the words match no visible product at all, the
    page is searched again tolerating typos; words that match products, only none within the filters, give an
    empty page, not near misses.
    """
    sort = query.sort or ("relevance" if query.q else "newest")
    if sort not in SORTS:
        raise Invalid(f"must be one of {', '.join(SORTS)}", "sort")
    search = prepare_search(query.q)
    page = _catalog_page(query, sort, search, _searched_sku(query.q) if sort == "relevance" else None)
    if page.total == 0 and search is not None and not _matches_any_product(search):
        page = _catalog_page(query, sort, prepare_search(query.q, typos=True))
    return page


def _searched_sku(q: str | None) -> str | None:
    """``q`` trimmed and lower-cased, when it could be a SKU."""
    try:
        sku = validation.sku((q or "").strip())
    except Invalid:
        return None
    return None if sku is None else sku.lower()


def _catalog_page(query: CatalogQuery, sort: str, search: Search | None, sku: str | None = None) -> Page[Product]:
    filters = tuple(name for name in _FILTERS if getattr(query, name) is not None)
    by_sku = search is not None and sku is not None
    shape = (None if search is None else search.shape, sort, filters, bool(query.in_stock), by_sku)
    params = {"sample_limit": EXACT_TOTAL_UP_TO, **({} if search is None else search.params)}
    params.update((name, getattr(query, name)) for name in filters)
    if by_sku:
        params["searched_sku"] = sku
    return run_page(
        _catalog_statement(*shape), query.page, query.per_page, exact_up_to=EXACT_TOTAL_UP_TO, params=params
    )


@lru_cache(maxsize=1024)
def _catalog_statement(
    search_shape: tuple[str, Hashable] | None, sort: str, filters: tuple[str, ...], in_stock: bool, by_sku: bool
) -> PageStatement:
    """The statement of every catalog page of this shape, built once (building it cost more than running
    it); the words, the filters' values and the page are its parameters (``_catalog_page``). ``by_sku`` (a search
    by relevance): the products whose lower-cased SKU is the ``searched_sku`` parameter match too, first."""
    conditions = [_FILTERS[name](bindparam(name)) for name in filters]
    if in_stock:
        conditions.append(Product.stock > 0)
    stmt, relevance = apply_search(catalog_products(), search_shape)
    stmt = stmt.where(*conditions)
    if sort == "relevance" and relevance is not None:
        exact = None
        count = stmt
        if by_sku:  # the SKU index finds them
            exact = catalog_products().where(*conditions, func.lower(Product.sku) == bindparam("searched_sku"))
            count = _either_capped(stmt, exact)
        return page_statement(with_relations(_ranked(stmt, relevance, exact)), count=count, capped=True)
    ordered = stmt.order_by(*_ORDER["newest" if sort == "relevance" else sort])
    return page_statement(with_relations(ordered), count=stmt, capped=True)


def _either_capped(stmt: Select[Any], exact: Select[Any]) -> Select[Any]:
    """The ids of ``stmt``'s first ``count_limit`` rows and of ``exact``'s, each once: counted, the exact total up
    to the cap (the few found by SKU alone on top of the words' matches), and above it beyond."""
    words = stmt.with_only_columns(Product.id).limit(bindparam("count_limit", type_=Integer)).subquery("words")
    return select(union(select(words.c.id), exact.with_only_columns(Product.id)).subquery("matched"))


# Above any search's relevance (``base.name_first`` stays under 2, a mean similarity under 1).
EXACT_SKU_RANK = 3.0


def _ranked(stmt: Select[Any], relevance: Relevance, exact: Select[Any] | None = None) -> Select[Any]:
    """The products of ``stmt`` by relevance: the first ``EXACT_TOTAL_UP_TO`` matches found, ranked.

    Ranking reads every match's text: for a word in 200 000 products that took half a second, to
    show 20 of them. So the database takes the first matches it finds, in no particular order, and
    ranks those: all of them when the total is exact; beyond it (the total is then a lower bound)
    a search by relevance pages through that sample, name matches first, and other orders through
    every match. The sample is ranked on its own, sorted, and only the rows of the page are then
    joined to their shop and category (the joins kept the sample's order). Its size is the
    ``sample_limit`` parameter. The sample computes the parts of the relevance, each once.
    """
    sample_limit = bindparam("sample_limit", type_=Integer)
    parts = [part.label(f"relevance_{i}") for i, part in enumerate(relevance.parts)]
    sample = stmt.with_only_columns(Product.id, *parts).limit(sample_limit).subquery("sample")
    rank = relevance.of(*(sample.c[part.name] for part in parts)).label("rank")
    scored = select(sample.c.id, rank)
    if exact is not None:  # the products found by SKU, first (and once, if the words found them too)
        by_sku = exact.with_only_columns(Product.id, literal(EXACT_SKU_RANK, Float).label("rank"))
        both = union_all(scored, by_sku).subquery("scored")
        scored = select(both.c.id, func.max(both.c.rank).label("rank")).group_by(both.c.id)
    columns = scored.selected_columns
    ranked = scored.order_by(columns.rank.desc(), columns.id.desc()).subquery("ranked")
    return select(Product).join(ranked, ranked.c.id == Product.id).order_by(ranked.c.rank.desc(), ranked.c.id.desc())


def _matches_any_product(search: Search) -> bool:
    """Whether ``search`` matches any visible product exactly, filters aside.

    A count, not EXISTS: under EXISTS's implicit LIMIT 1, PostgreSQL reads products in order
    hoping for an early match, all of them when nothing matches (the very case that gets here).
    """
    return bool(db.session.scalar(_any_match_statement(search.shape), search.params))


@lru_cache(maxsize=64)
def _any_match_statement(search_shape: tuple[str, Hashable]) -> Select[int]:
    stmt, _ = apply_search(catalog_products(), search_shape)
    return select(func.count()).select_from(stmt.subquery())
