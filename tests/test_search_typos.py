"""Typo tolerance: when nothing matches exactly, names close to the words (pg_trgm / FTS5 trigrams)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from shopapp.catalog.query import CatalogQuery, catalog_products, search_catalog
from shopapp.catalog.search import apply_search, prepare_search
from shopapp.extensions import db
from shopapp.products import services as products
from tests.conftest import ON_POSTGRES
from tests.test_search import bulk_up_for_the_planner, names, query_plan

pytestmark = pytest.mark.usefixtures("app_ctx")  # the services, called directly

# What only the typo fallback's SQL contains: the operator on PostgreSQL, the trigram table on SQLite.
FALLBACK_MARK = "<<%" if ON_POSTGRES else "product_trgm"


@pytest.fixture
def catalog(make_shop, make_product):  # type: ignore[no-untyped-def]
    """Created closest name first, so that newest-first ties would put it last: rank must order them."""
    shop = make_shop()
    for name, price in [
        ("Leather Wallet", "40"),
        ("Heirloom Vase", "90"),
        ("Leather Belt", "25"),
        ("Wale Print", "15"),
        ("Feather Pillow", "20"),
        ("Desk Lamp", "30"),
    ]:
        make_product(shop=shop, name=name, description="Nothing special.", price=Decimal(price))
    return shop


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lether", ["Leather Wallet", "Leather Belt"]),  # a letter missing
        ("LETHER", ["Leather Wallet", "Leather Belt"]),
        ("heirlom", ["Heirloom Vase"]),
        ("lether walet", ["Leather Wallet"]),  # every word must be close to the name
        ("wallet lether", ["Leather Wallet"]),  # a correct word with a typo: no exact match either
        ("lether vase", []),
        ("dsek lamp", ["Desk Lamp"]),  # two neighbouring letters swapped: one swap away
        ("lepmas", []),  # two swaps away
        ("qwerty", []),
    ],
)
def test_typos_find_close_names(q, expected):
    assert sorted(names(q)) == sorted(expected)


def test_the_closest_name_ranks_first(catalog):
    """Newer, "Wale Print" still ranks second: "walet" shares more with "Wallet" than with "Wale"."""
    assert names("walet") == ["Leather Wallet", "Wale Print"]


@pytest.mark.usefixtures("catalog")
def test_a_correct_word_never_takes_the_typo_path(queries):
    """The exact results stand, even when the filters leave nothing ("Feather Pillow" is close to leather on SQLite)."""
    queries.clear()
    assert names("leather") == ["Leather Belt", "Leather Wallet"]
    assert names("leather", max_price=Decimal("20")) == []
    assert names("pillow", sort="name") == ["Feather Pillow"]
    assert not [s for s in queries.sql if FALLBACK_MARK in s], queries.sql


@pytest.mark.usefixtures("catalog")
def test_a_typo_takes_two_more_queries_than_an_exact_search(queries):
    queries.clear()
    assert names("heirlom", per_page=1) == ["Heirloom Vase"]
    # exact page with its count (empty), exact matches regardless of filters (0), typo page with its count and images
    assert [FALLBACK_MARK in s for s in queries.sql] == [False, False, True]


def test_typo_results_are_filtered_sorted_paged_and_counted(make_shop, make_product, catalog):
    other = make_shop(name="Other")
    make_product(shop=other, name="Leather Gloves", price=Decimal("10"))
    assert names("lether", sort="price_asc") == ["Leather Gloves", "Leather Belt", "Leather Wallet"]
    assert names("lether", sort="name", shop_id=catalog.id) == ["Leather Belt", "Leather Wallet"]
    assert names("lether", min_price=Decimal("20"), max_price=Decimal("30")) == ["Leather Belt"]
    page = search_catalog(CatalogQuery(q="lether", sort="name", per_page=2, page=2))
    assert (page.total, page.pages, [p.name for p in page.items]) == (3, 2, ["Leather Wallet"])


def test_hidden_products_never_match_a_typo(make_hidden_twins):
    """A hidden product spelt like the typo does not count as an exact match either."""
    make_hidden_twins("Leather Wallet", "Lether Strap", "Leather Deleted", "Leather Closed Shop", "Leather Gone Shop")
    page = search_catalog(CatalogQuery(q="lether"))
    assert (page.total, [p.name for p in page.items]) == (1, ["Leather Wallet"])


def test_renamed_products_are_found_by_typo_at_once(make_shop, make_product):
    shop = make_shop()
    product = make_product(shop=shop, name="Copper Kettle")
    assert names("coper") == ["Copper Kettle"]
    products.update_product(shop.owner, product.id, {"name": "Brass Teapot"})
    db.session.commit()
    assert (names("coper"), names("teapott")) == ([], ["Brass Teapot"])
    db.session.delete(db.session.get(type(product), product.id))
    db.session.commit()
    make_product(shop=shop, name="Oak Chair")  # SQLite reuses the freed id: stale index rows would show here
    assert (names("teapott"), names("chairr")) == ([], ["Oak Chair"])
    if not ON_POSTGRES:  # FTS5 checks its index against the products table
        db.session.execute(text("INSERT INTO product_trgm (product_trgm, rank) VALUES ('integrity-check', 1)"))


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    "q",
    [
        '"lether"',
        "lether*",
        "le'ther",
        "lether\\",
        "%lether_",
        "le%%ther",
        "<<% lether",
        "lether:*",
        "x" * 10_000,
        "lether " * 100,
        "a",
        "ab lether",
        "ß 茶 لثر",
        "lether\x00walet",
    ],
)
def test_hostile_typos_never_fail(q):
    page = search_catalog(CatalogQuery(q=q))
    assert page.total == len(page.items) <= 6


def test_documented_typo_difference_between_the_databases(make_shop, make_product):
    """SQLite counts a word's trigrams anywhere in the name; pg_trgm compares whole words, and
    "feather" is another word than "leather" (strict word similarity 5/11, under 0.5)."""
    shop = make_shop()
    make_product(shop=shop, name="Feather Pillow")
    make_product(shop=shop, name="Desk Lamp")
    assert names("leather") == ([] if ON_POSTGRES else ["Feather Pillow"])


def test_the_typo_fallback_uses_the_trigram_index(catalog):
    """PostgreSQL: the GIN trigram index finds the candidates and the tsvector's finds the swaps (a BitmapOr
    a word), no sequential scan of products; SQLite: the FTS5 trigram table's own index.

    On PostgreSQL the test-sized table is still read whole when a sequential scan is allowed: each word's OR
    of two lookups is estimated to keep too many of its 5 000 rows. At 1 000 000 products the planner picks
    the BitmapOr by itself (README, "Product pages and search engines"), so the plan is asked without it."""
    if ON_POSTGRES:
        bulk_up_for_the_planner(catalog.id)
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
    search = prepare_search("lether walet", typos=True)
    stmt, _ = apply_search(catalog_products(), search.shape)
    plan = query_plan(stmt, search.params)
    if ON_POSTGRES:
        assert "Bitmap Index Scan on ix_products_name_trgm" in plan, plan
        assert "Bitmap Index Scan on ix_products_search_vector" in plan, plan
        assert "Seq Scan on products" not in plan, plan
    else:
        assert "SCAN product_trgm VIRTUAL TABLE INDEX" in plan, plan
    db.session.rollback()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("headlmap", ["Camping Headlamp"]),
        ("lantren", ["Storm Lantern"]),
        ("HEADLMAP lantern", []),  # every word must be close to the same name
        ("lantren storm", ["Storm Lantern"]),  # a swapped word beside a correct one
        ("sotrm lantren", ["Storm Lantern"]),  # two words, each one swap away
        ("ehadlamp", ["Camping Headlamp"]),  # the first two letters
        ("headlapm", ["Camping Headlamp"]),  # the last two
        ("lnatren", []),  # two swaps in one word
    ],
)
def test_two_neighbouring_letters_swapped_still_find_the_name(make_shop, make_product, q, expected):
    shop = make_shop()
    for name in ("Camping Headlamp", "Storm Lantern", "Heated Lamp"):
        make_product(shop=shop, name=name, description="Nothing special.")
    assert names(q) == expected


def test_a_swap_ranks_with_close_names(make_shop, make_product):
    """One swap away counts as SWAP_SIMILARITY close: above a name that only shares a few trigrams."""
    shop = make_shop()
    make_product(shop=shop, name="Wallet Chain")
    make_product(shop=shop, name="Wlalet Stand")  # the typo is a real name: the typed word matches it exactly
    assert names("wlalet")[0] == "Wlalet Stand"


def test_swaps_are_only_tried_for_words_of_four_to_sixteen_characters():
    from shopapp.catalog.search.base import swaps

    assert swaps("abc") == [] and swaps("a" * 17) == []
    assert swaps("Dsek") == ["sdek", "desk", "dske"]
    assert swaps("aabb") == ["abab"]  # swapping equal letters changes nothing
    assert len(swaps("abcdefghijklmnop")) == 15
