"""Catalog full-text search: the same behaviour on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Select, text

from shopapp.catalog import query as catalog_query
from shopapp.catalog.query import CatalogQuery, catalog_products, search_catalog
from shopapp.catalog.search import MAX_TERMS, apply_search, prepare_search, search_terms
from shopapp.extensions import db
from shopapp.products import services as products
from shopapp.products.models import ProductImage
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.usefixtures("app_ctx")  # the services, called directly


def names(q: str | None, **query: object) -> list[str]:
    return [p.name for p in search_catalog(CatalogQuery(q=q, **query)).items]  # type: ignore[arg-type]


@pytest.fixture
def catalog(make_shop, make_product):  # type: ignore[no-untyped-def]
    """A few products; the description-only matches are created first, so rank, not age, orders them."""
    shop = make_shop()
    for name, description in [
        ("Ski Goggles", "Anti-fog."),
        ("Desk Stand", "Holds a phone upright."),
        ("Phone Case", "A sturdy case for your phone."),
        ("Leather Wallet", "Brown leather, six card slots."),
        ("Running Shoes", "Light shoes for the road."),
        ("Café Crème Mug", "Stoneware, 350 ml."),
    ]:
        make_product(shop=shop, name=name, description=description)
    return shop


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("pho", ["Phone Case", "Desk Stand"]),  # a word prefix; the name match first
        ("PHONE", ["Phone Case", "Desk Stand"]),  # case-insensitive
        ("pHo CAS", ["Phone Case"]),  # every word must match, each as a prefix
        ("case phone", ["Phone Case"]),  # in any order
        ("phone wallet", []),
        ("upright", ["Desk Stand"]),  # description only
        ("sturdy phone", ["Phone Case"]),  # one word in the description, one in the name
        ("wallets", ["Leather Wallet"]),  # stemming on both databases
        ("slot", ["Leather Wallet"]),
        ("shoe", ["Running Shoes"]),
        ("running", ["Running Shoes"]),
        ("café", ["Café Crème Mug"]),
        ("CAFÉ mug", ["Café Crème Mug"]),
        ("350", ["Café Crème Mug"]),
        ("anti-FOG", ["Ski Goggles"]),  # cut by each database's tokenizer as it cut the description
        ("road.", ["Running Shoes"]),
        ("the road", ["Running Shoes"]),  # stop words are still words: PostgreSQL's 'simple' half matches them
        ("the", ["Running Shoes"]),
        # PostgreSQL: the unstemmed prefix ('simple'). FTS5 indexes only porter stems ("run"), so on
        # SQLite the exact search finds nothing and the typo fallback finds it by its trigrams.
        ("runn", ["Running Shoes"]),
    ],
)
def test_search_matches(q, expected):
    assert names(q) == expected


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("q", "on_sqlite", "on_postgres"),
    [
        # FTS5's unicode61 folds diacritics (remove_diacritics 2); PostgreSQL has no unaccent here.
        ("creme", ["Café Crème Mug"], []),
        ("cafe", ["Café Crème Mug"], []),
        # The stemmers differ: FTS5's porter makes "skies" "ski", PostgreSQL's english (Snowball) "sky".
        ("skies", ["Ski Goggles"], []),
        # Query syntax is never interpreted on either, but the typo fallback compares differently:
        # pg_trgm cuts the piece into words at punctuation ("name", "wallet": "wallet" is close to
        # the name), SQLite counts the trigrams of the whole piece, mostly absent from the name.
        ("name:wallet", [], ["Leather Wallet"]),
        ("NEAR(phone case)", [], ["Phone Case"]),
    ],
)
def test_documented_differences_between_the_databases(q, on_sqlite, on_postgres):
    assert names(q) == (on_postgres if ON_POSTGRES else on_sqlite)


def test_name_matches_rank_above_description_matches(make_shop, make_product):
    shop = make_shop()
    make_product(shop=shop, name="Kettle", description="Boils water for tea, tea, tea and more tea.")
    make_product(shop=shop, name="Tea Towel", description="Cotton.")
    make_product(shop=shop, name="Teapot", description="Porcelain.")
    make_product(shop=shop, name="Mug", description="For coffee.")
    assert names("tea") == ["Teapot", "Tea Towel", "Kettle"]  # name ties: newest first


def test_a_name_match_needs_every_word_in_the_name(make_shop, make_product):
    """Words split between name and description rank with description matches, whatever their repetitions;
    a word the tokenizer cuts in several (``e-mail``) matches the name as a whole too."""
    shop = make_shop()
    make_product(shop=shop, name="E-mail Kettle", description="Steel.")
    make_product(shop=shop, name="Kettle Manual", description="E-mail e-mail e-mail, the kettle by e-mail.")
    make_product(shop=shop, name="Letter Tray", description="Kettle e-mail, kettle e-mail, kettle e-mail.")
    assert names("kettle e-mail")[0] == "E-mail Kettle"
    assert names("e-mail")[0] == "E-mail Kettle"


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Operators and quotes are plain text: the words around them are searched as typed.
        ("(pho)", ["Phone Case", "Desk Stand"]),
        ("pho*", ["Phone Case", "Desk Stand"]),
        ('"phone" AND', []),  # "and" is a word too, and no product has a word starting with it
        ("'pho':* | wal", []),
        ("phone & !case", ["Phone Case"]),
        ("-case", ["Phone Case"]),
        ("wallet\\", ["Leather Wallet"]),
        ("phone\x00case", ["Phone Case"]),
        ("AND(", []),
        ("3.5mm", []),
        ("x" * 10_000, []),
        ("📱 phone", ["Phone Case", "Desk Stand"]),  # an emoji is neither letter nor digit
        ("phone \ud800", ["Phone Case", "Desk Stand"]),
        ("شاي 茶", []),
    ],
)
def test_query_syntax_in_the_input_is_never_interpreted(q, expected):
    assert names(q) == expected


# Query syntax of both databases, quotes, escapes, separators and a few scripts, NUL and a lone surrogate.
FUZZ_ALPHABET = [
    *"\"'*:&|!<>-+^(){}[],.;\\/%_~ \t\n\x00",
    *("AND", "OR", "NOT", "NEAR", "pho", "é", "ß", "茶", "\ud800"),
]


@pytest.mark.usefixtures("catalog")
def test_fuzzed_queries_never_fail():
    rng = random.Random(20261124)  # fixed: a failure must replay
    for _ in range(300):
        q = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(1, 30)))
        page = search_catalog(CatalogQuery(q=q))
        assert page.total == len(page.items) <= 6, q


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("q", ["", "   ", '"', "*", "'", "-", "\x00", "_ _", "()*:&|!<->"])
def test_a_query_without_letters_or_digits_is_no_filter(q):
    page = search_catalog(CatalogQuery(q=q))
    assert page.total == 6
    assert page.items[0].name == "Café Crème Mug"  # relevance falls back to newest


def test_search_terms_are_bounded():
    assert search_terms("a " * 1000) == ["a"] * MAX_TERMS
    assert len(search_terms("x" * 10_000)[0]) == 64


def test_edits_are_searchable_at_once(make_shop, make_product):
    shop = make_shop()
    kettle = make_product(shop=shop, name="Blue Kettle", description="Steel.")
    products.update_product(shop.owner, kettle.id, {"name": "Red Teapot"})
    db.session.commit()
    assert (names("kettle"), names("teapot")) == ([], ["Red Teapot"])
    products.update_product(shop.owner, kettle.id, {"description": "Glazed porcelain."})
    products.adjust_stock(shop.owner, kettle.id, 3)  # not an indexed column: must not disturb the index
    db.session.commit()
    assert (names("steel"), names("porcelain")) == ([], ["Red Teapot"])

    db.session.delete(db.session.get(type(kettle), kettle.id))
    db.session.commit()
    make_product(shop=shop, name="Oak Chair")  # SQLite reuses the freed id: stale index rows would show here
    assert (names("teapot"), names("oak")) == ([], ["Oak Chair"])
    if not ON_POSTGRES:  # FTS5 checks its index against the products table
        db.session.execute(text("INSERT INTO product_fts (product_fts, rank) VALUES ('integrity-check', 1)"))


def test_hidden_products_never_match(make_hidden_twins):
    owner, deleted = make_hidden_twins(
        "Lamp One", "Lamp Inactive", "Lamp Deleted", "Lamp Closed Shop", "Lamp Gone Shop"
    )
    assert names("lamp") == ["Lamp One"]
    products.restore_product(owner, deleted.id)
    db.session.commit()
    assert names("lamp") == ["Lamp Deleted", "Lamp One"]


def test_search_with_filters_sorts_and_pages(make_user, make_shop, make_category, make_product):
    shop, other_shop = make_shop(), make_shop(name="Other")
    curator = make_user()
    parent = make_category(owner=curator, name="Kitchen")
    child = make_category(owner=curator, name="Pots", parent_id=parent.id)
    for i, price in enumerate(["5", "12", "3", "30", "8"]):
        make_product(shop=shop, name=f"Pot {i}", price=Decimal(price), category_id=child.id, stock=i)
    make_product(shop=shop, name="Pot Uncategorised", price=Decimal("7"))
    make_product(shop=other_shop, name="Pot Elsewhere", price=Decimal("6"), category_id=child.id)
    make_product(shop=shop, name="Pan", price=Decimal("4"), category_id=child.id)

    in_kitchen = {"category_id": parent.id, "shop_id": shop.id}
    assert names("pot", **in_kitchen, sort="price_asc") == ["Pot 2", "Pot 0", "Pot 4", "Pot 1", "Pot 3"]
    assert names("pot", **in_kitchen, sort="price_desc", min_price=Decimal("5"), in_stock=True) == [
        "Pot 3",
        "Pot 1",
        "Pot 4",
    ]
    assert names("pot", sort="name", max_price=Decimal("6")) == ["Pot 0", "Pot 2", "Pot Elsewhere"]

    pages = [search_catalog(CatalogQuery(q="pot", per_page=3, page=n)) for n in (1, 2, 3)]
    assert [(p.total, p.pages) for p in pages] == [(7, 3)] * 3
    seen = [item.name for p in pages for item in p.items]
    assert len(seen) == len(set(seen)) == 7
    assert "Pan" not in seen


def test_a_search_page_is_one_query(make_shop, make_product, queries):
    """The page, its count, and every product's shop, category and images (in their order) in one round trip."""
    shop = make_shop()
    for i in range(12):
        product = make_product(shop=shop, name=f"Candle {i}")
        for position in (1, 0):
            db.session.add(
                ProductImage(
                    product_id=product.id, storage_key=f"k{i}-{position}", width=1, height=1, position=position
                )
            )
    db.session.commit()
    db.session.expunge_all()
    queries.clear()
    page = search_catalog(CatalogQuery(q="candle", per_page=10))
    assert [p.shop.name for p in page.items] == ["Test Shop"] * 10
    assert [[image.position for image in p.images] for p in page.items] == [[0, 1]] * 10
    assert page.total == 12 and page.has_next
    assert len(queries) == 1


def bulk_up_for_the_planner(shop_id: int) -> None:
    """PostgreSQL: make the planner prefer the search indexes, as it would on a real catalog.

    A test-sized table is read faster whole, so add filler rows, flush the GIN pending lists
    into the indexes proper (VACUUM's job, not allowed in a transaction) and refresh statistics.
    """
    conn = db.session.connection()
    conn.execute(
        text(
            "INSERT INTO products (shop_id, name, slug, price, description)"
            " SELECT :shop_id, 'Filler ' || n, 'filler-' || n, 1, 'Nothing to see.' FROM generate_series(1, 5000) n"
        ),
        {"shop_id": shop_id},
    )
    for index in ("ix_products_search_vector", "ix_products_name_trgm"):
        conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{index}')")
    conn.exec_driver_sql("ANALYZE products")


def query_plan(stmt: Select[Any], values: dict[str, Any]) -> str:
    """The database's plan for ``stmt`` with these ``values`` of its parameters: EXPLAIN on PostgreSQL,
    EXPLAIN QUERY PLAN on SQLite."""
    compiled = stmt.compile(db.engine)
    bound = compiled.construct_params(values)
    params = tuple(bound[k] for k in compiled.positiontup or ()) if compiled.positional else bound
    explain = "EXPLAIN " if ON_POSTGRES else "EXPLAIN QUERY PLAN "
    rows = db.session.connection().exec_driver_sql(explain + compiled.string, params)
    return "\n".join(str(row[-1]) for row in rows)


def test_search_uses_the_full_text_index(catalog):
    """PostgreSQL: the GIN index on search_vector; SQLite: FTS5's own index."""
    if ON_POSTGRES:
        bulk_up_for_the_planner(catalog.id)
    search = prepare_search("phone case")
    stmt, _ = apply_search(catalog_products(), search.shape)
    plan = query_plan(stmt, search.params)
    if ON_POSTGRES:
        assert "Bitmap Index Scan on ix_products_search_vector" in plan, plan
    else:
        assert "SCAN product_fts VIRTUAL TABLE INDEX" in plan, plan
    db.session.rollback()


def test_searches_of_one_shape_share_a_statement_and_keep_their_own_values(make_shop, make_product):
    """The catalog builds its statement once per shape (words, sort, filters given); the values are parameters."""
    shop, other = make_shop(), make_shop(name="Other")
    make_product(shop=shop, name="Candle Cheap", price=Decimal("5"))
    make_product(shop=shop, name="Candle Dear", price=Decimal("50"))
    make_product(shop=other, name="Lamp Dear", price=Decimal("60"))
    catalog_query._catalog_statement.cache_clear()
    assert names("candle", max_price=Decimal("10"), shop_id=shop.id) == ["Candle Cheap"]
    assert names("lamp", max_price=Decimal("100"), shop_id=other.id) == ["Lamp Dear"]
    assert names("dear", max_price=Decimal("55"), shop_id=shop.id) == ["Candle Dear"]
    assert names("dear", max_price=Decimal("55"), shop_id=shop.id, page=2, per_page=1) == []
    assert names("candle dear", sort="price_asc") == ["Candle Dear"]
    info = catalog_query._catalog_statement.cache_info()
    assert (info.misses, info.hits) == (2, 3)
