"""The catalog at scale: totals counted only so far, and an index behind every filter and order.

The figures at a million products are in the README's Performance section (bench/run.py);
these tests pin what makes them flat: bounded counts, bounded ranking, no sequential scan.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shopapp.auth.models import User
from shopapp.catalog import query as catalog_query
from shopapp.catalog.query import CatalogQuery, search_catalog
from shopapp.extensions import db
from tests.conftest import QueryLog
from tests.test_search import bulk_up_for_the_planner


@pytest.fixture
def candles(make_shop, make_product, monkeypatch):  # type: ignore[no-untyped-def]
    """Seven matching products, and the catalog counting exactly only up to three."""
    monkeypatch.setattr(catalog_query, "EXACT_TOTAL_UP_TO", 3)
    shop = make_shop()
    for n in range(7):
        make_product(shop=shop, name=f"Candle {n}")
    return shop


def page_facts(page: int, sort: str) -> tuple[int, bool, int, bool, list[str]]:
    found = search_catalog(CatalogQuery(q="candle", sort=sort, per_page=2, page=page))
    return found.total, found.total_is_lower_bound, found.pages, found.has_next, [p.name for p in found.items]


@pytest.mark.usefixtures("app_ctx", "candles")
def test_beyond_the_threshold_the_total_is_a_lower_bound_and_paging_goes_on():
    pages = [page_facts(n, "newest") for n in (1, 2, 3, 4)]
    assert [facts[:4] for facts in pages] == [
        (3, True, 2, True),
        (4, True, 2, True),  # counted to the end of the page asked for, and one more
        (6, True, 3, True),
        (7, False, 4, False),  # the end is known: exact again
    ]
    assert [name for facts in pages for name in facts[4]] == [f"Candle {n}" for n in range(6, -1, -1)]


@pytest.mark.usefixtures("app_ctx", "candles")
def test_beyond_the_threshold_relevance_ranks_a_sample_of_that_size():
    first, second, third = (page_facts(n, "relevance") for n in (1, 2, 3))
    assert first[:4] == (3, True, 2, True) and second[:4] == (4, True, 2, False)
    assert len(set(first[4] + second[4])) == 3  # the same sample on every page
    assert third == (6, True, 3, False, [])


@pytest.mark.usefixtures("candles")
def test_the_api_and_the_page_say_when_the_total_is_a_lower_bound(client, monkeypatch):
    body = client.get("/api/v1/products?q=candle&sort=newest&per_page=2").get_json()
    assert (body["total"], body["pages"], body["total_is_lower_bound"]) == (3, 2, True)
    exact = client.get("/api/v1/products?q=candle&sort=newest&per_page=2&page=4").get_json()
    assert (exact["total"], exact["total_is_lower_bound"]) == (7, False)
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ProductPage"]
    assert schema["properties"]["total_is_lower_bound"]["type"] == "boolean"

    monkeypatch.setattr("shopapp.catalog.forms.CATALOG_PER_PAGE", 2)
    html = client.get("/products?q=candle&sort=newest&page=2").get_data(as_text=True)
    assert "4+ products found" in html and "page 2 of 2+" in html
    assert 'rel="next"' in html


def test_exact_totals_below_the_threshold(make_shop, make_product, app_ctx):
    shop = make_shop()
    for n in range(4):
        make_product(shop=shop, name=f"Lamp {n}")
    page = search_catalog(CatalogQuery(q="lamp", per_page=3))
    assert (page.total, page.total_is_lower_bound, page.pages) == (4, False, 2)


def plans(queries: QueryLog, query: CatalogQuery) -> list[dict[str, Any]]:
    """PostgreSQL's plan (EXPLAIN's JSON) of every statement the catalog sends for ``query``."""
    queries.clear()
    search_catalog(query)
    sent = list(queries)
    connection = db.session.connection()
    return [
        connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
        for statement, parameters in sent
    ]


# Nodes that pass rows up as they come: a scan below them stops when a Limit above has enough.
_STREAMING = {"Nested Loop", "Hash Join", "Merge Join", "Gather", "Result", "Subquery Scan", "Append"}


def whole_table_scans(node: dict[str, Any], bounded: bool = False) -> list[str]:
    """The sequential scans of products in a plan that read the table to its end.

    A scan under a Limit through streaming nodes only stops early (the capped count reads the
    first 1 001 matches, where the planner rightly finds that cheaper than an index); one under
    a Sort, a Hash or an Aggregate reads everything.
    """
    kind = node["Node Type"]
    found = [] if bounded or kind != "Seq Scan" or node.get("Relation Name") != "products" else [kind]
    bounded = kind == "Limit" or (bounded and kind in _STREAMING)
    for child in node.get("Plans", []):  # a Hash (a join's inner side) is not streaming: read whole
        found += whole_table_scans(child, bounded)
    return found


FILTERED = {"category_id": "the parent", "min_price": Decimal("2"), "max_price": Decimal("20"), "in_stock": True}


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "fields",
    [
        {"q": "lamp"},
        {"q": "lamp", "sort": "price_asc", "min_price": Decimal("3")},
        {"sort": "newest"},
        {"sort": "price_asc"},
        {"sort": "price_desc"},
        {"sort": "name"},
        {**FILTERED, "sort": "price_asc"},
        {**FILTERED, "sort": "newest"},
    ],
    ids=["search", "search by price", "newest", "price_asc", "price_desc", "name", "filtered", "filtered newest"],
)
def test_search_filters_and_sorts_never_read_the_whole_products_table(
    app_ctx, fields, make_shop, make_category, make_product, queries
):
    shop, category = make_shop(), make_category()
    child = make_category(db.session.get(User, category.owner_id), name="Smaller things", parent_id=category.id)
    for n in range(30):
        make_product(shop=shop, name=f"Lamp {n}", price=Decimal(n), category_id=(category.id, child.id)[n % 2])
    bulk_up_for_the_planner(shop.id)
    if "category_id" in fields:
        fields = {**fields, "category_id": category.id}
    for plan in plans(queries, CatalogQuery(**fields)):
        assert not whole_table_scans(plan), plan
    db.session.rollback()
