"""The customer's side: catalog search and filters, product, shop and category pages."""

from decimal import Decimal

import pytest

from tests.conftest import QueryLog
from tests.pages.conftest import HTMX, text


@pytest.fixture
def catalog(make_user, make_shop, make_category, make_product):  # type: ignore[no-untyped-def]
    """Two shops; a category tree Kitchen > Mugs; a few products, one hidden, one out of stock."""
    owner = make_user()
    kitchen = make_category(owner, name="Kitchen")
    mugs = make_category(owner, name="Mugs", parent_id=kitchen.id)
    garden = make_category(owner, name="Garden")
    north = make_shop(owner, name="North Pottery")
    south = make_shop(name="South Tools")
    products = {
        "mug": make_product(north, name="Blue Mug", price=Decimal("12.00"), category_id=mugs.id),
        "bowl": make_product(north, name="Salad Bowl", price=Decimal("30.00"), category_id=kitchen.id),
        "spade": make_product(south, name="Spade", price=Decimal("25.50"), stock=0, category_id=garden.id),
        "hidden": make_product(south, name="Secret Rake", is_active=False),
    }
    return {"owner": owner, "kitchen": kitchen, "mugs": mugs, "north": north, "south": south, **products}


def names_in(body: str, *names: str) -> list[str]:
    """The given names in the order the page shows them."""
    return sorted((n for n in names if n in body), key=body.index)


def test_catalog_page_shows_visible_products_with_their_details(client, catalog):
    body = text(client.get("/"))
    assert names_in(body, "Blue Mug", "Salad Bowl", "Spade", "Secret Rake") == ["Spade", "Salad Bowl", "Blue Mug"]
    assert "€12.00" in body and "North Pottery" in body
    assert "Out of stock" in body and "In stock" in body
    assert f'href="/products/{catalog["mug"].id}-blue-mug"' in body
    assert "3 products found" in body
    assert '<label for="q">Search</label>' in body
    assert 'hx-trigger="input changed delay:300ms, search"' in body
    assert 'id="results" aria-live="polite"' in body
    assert text(client.get("/products")).count("product-card") == 3


def test_htmx_search_gets_only_the_results_fragment(client, catalog):
    response = client.get("/products?q=mug", headers=HTMX)
    body = text(response)
    assert "<html" not in body and '<nav class="container"' not in body
    assert "product-card" in body and "for “mug”" in body
    assert "HX-Request" in response.headers["Vary"]
    assert "HX-Request" in client.get("/products?q=mug").headers["Vary"]
    restored = client.get("/products?q=mug", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in text(restored)


def test_category_filter_includes_subcategories_and_the_select_is_indented(client, catalog):
    body = text(client.get("/products", query_string={"category": catalog["kitchen"].id}))
    assert names_in(body, "Blue Mug", "Salad Bowl", "Spade") == ["Salad Bowl", "Blue Mug"]
    assert "\u00a0\u00a0\u00a0Mugs</option>" in body
    assert f'<option selected value="{catalog["kitchen"].id}">Kitchen</option>' in body


def test_shop_price_stock_filters_and_sort(client, catalog):
    by_shop = text(client.get("/products", query_string={"shop": catalog["south"].id}))
    assert names_in(by_shop, "Blue Mug", "Salad Bowl", "Spade") == ["Spade"]
    priced = text(client.get("/products?min_price=20&max_price=26"))
    assert names_in(priced, "Blue Mug", "Salad Bowl", "Spade") == ["Spade"]
    stocked = text(client.get("/products?in_stock=y&sort=price_desc"))
    assert names_in(stocked, "Blue Mug", "Salad Bowl", "Spade") == ["Salad Bowl", "Blue Mug"]
    cheap_first = text(client.get("/products?sort=price_asc"))
    assert names_in(cheap_first, "Blue Mug", "Salad Bowl", "Spade") == ["Blue Mug", "Spade", "Salad Bowl"]


@pytest.mark.parametrize("query", ["min_price=abc", "max_price=NaN", "min_price=1.234", "category=999", "sort=evil"])
def test_bad_filter_values_are_shown_beside_their_field_not_a_500(client, catalog, query):
    response = client.get(f"/products?{query}")
    assert response.status_code == 200
    assert 'class="field-error"' in text(response)
    fragment = text(client.get(f"/products?{query}", headers=HTMX))
    assert "Ignored " in fragment and "product-card" in fragment


def test_a_refused_choice_is_marked_on_its_select_and_explained_beside_it(client, catalog):
    body = text(client.get("/products?category=999"))
    select = body[body.index('<select aria-describedby="category-error" aria-invalid="true" id="category"') :]
    assert " selected " not in select[: select.index("</select>")]
    assert '<small id="category-error" class="field-error">Not a valid choice.</small>' in body


def test_no_results_and_empty_catalog_states_help(client, catalog):
    none = text(client.get("/products?min_price=999999"))
    assert "No products match" in none and "Clear all filters" in none


def test_empty_catalog_says_so(client):
    assert "The catalog is empty" in text(client.get("/"))


def test_pagination_counts_and_keeps_the_filters(client, make_shop, make_product):
    shop = make_shop()
    for n in range(14):
        make_product(shop, name=f"Item {n:02d}")
    first = text(client.get("/products?sort=name"))
    assert "14 products found · page 1 of 2" in first
    assert first.count("product-card") == 12
    assert 'href="/?sort=name&amp;page=2"' in first and 'rel="next"' in first
    second = text(client.get("/?sort=name&page=2", headers=HTMX))
    assert second.count("product-card") == 2 and "page 2 of 2" in second
    assert "Item 13" in second and 'aria-current="page" href="/?sort=name&amp;page=2"' in second
    beyond = text(client.get("/?page=9"))
    assert "There is no page 9" in beyond
    assert client.get("/?page=999999999999999999999").status_code == 200


def statements_for(client, queries: QueryLog, url: str, headers: dict[str, str] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL one request to ``url`` sends."""
    queries.clear()
    assert client.get(url, headers=headers or {}).status_code == 200
    return queries.sql


def test_catalog_queries_do_not_grow_with_the_products(
    client, make_user, make_shop, make_category, make_product, queries
):
    owner = make_user()
    category = make_category(owner)
    make_product(make_shop(owner, name="First"), category_id=category.id)
    few = len(statements_for(client, queries, "/"))
    assert 0 < few <= 8
    for n in range(11):
        make_product(make_shop(owner, name=f"Shop {n}"), category_id=category.id)
    assert len(statements_for(client, queries, "/")) == few


def test_the_filter_choices_are_loaded_only_to_draw_the_filters_or_check_a_value(client, catalog, queries):
    def choice_lists(url: str, headers: dict[str, str] | None = None) -> list[str]:
        """Which choice lists the request loaded: the category tree, the shops."""
        sql = statements_for(client, queries, url, headers)
        return [name for name in ("categories", "shops") if any(s.startswith(f"SELECT {name}.id") for s in sql)]

    assert choice_lists("/products?q=mug") == ["categories", "shops"]
    assert choice_lists("/products?q=mug", HTMX) == []
    assert choice_lists("/products?category=&shop=", HTMX) == []
    assert choice_lists(f"/products?category={catalog['mugs'].id}", HTMX) == ["categories"]
    assert choice_lists(f"/products?shop={catalog['north'].id}", HTMX) == ["shops"]
    refused = text(client.get("/products?category=999&shop=999", headers=HTMX))
    assert "Ignored category: Not a valid choice." in refused and "Ignored shop: Not a valid choice." in refused


def test_product_page_shows_everything_a_customer_needs(client, catalog):
    mug = catalog["mug"]
    body = text(client.get(f"/products/{mug.id}-blue-mug"))
    assert "<h1>Blue Mug</h1>" in body and "€12.00" in body and "In stock" in body
    assert f'href="/shops/{catalog["north"].id}-north-pottery"' in body
    trail = body[body.index('<nav aria-label="breadcrumb">') :]
    assert names_in(trail, "Kitchen", "Mugs") == ["Kitchen", "Mugs"]


@pytest.mark.parametrize("path", ["/products/{id}", "/products/{id}-old-name", "/products/{id}-BLUE-MUG"])
def test_product_urls_redirect_permanently_to_the_canonical_one(client, catalog, path):
    mug = catalog["mug"]
    response = client.get(path.format(id=mug.id) + "?ref=mail")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/products/{mug.id}-blue-mug?ref=mail"


def test_hidden_and_missing_products_are_404(client, catalog):
    assert client.get(f"/products/{catalog['hidden'].id}-secret-rake").status_code == 404
    assert client.get("/products/999999").status_code == 404
    assert client.get("/products/99999999999999999999999").status_code == 404
    assert "We could not find that page" in text(client.get("/products/999999"))


def test_an_owner_sees_their_own_hidden_product_with_a_note(client, make_user, make_shop, make_product, auth):
    owner = make_user()
    hidden = make_product(make_shop(owner), name="Draft Chair", is_active=False)
    assert client.get(f"/products/{hidden.id}-draft-chair").status_code == 404
    auth.login(owner)
    page = text(client.get(f"/products/{hidden.id}-draft-chair"))
    assert "<h1>Draft Chair</h1>" in page and "Only you can see this product" in page


def test_shops_list_and_shop_page(client, catalog):
    shops = text(client.get("/shops"))
    assert "North Pottery" in shops and "South Tools" in shops
    found = text(client.get("/shops?q=north", headers=HTMX))
    assert "North Pottery" in found and "South Tools" not in found and "<html" not in found

    north = catalog["north"]
    assert client.get(f"/shops/{north.id}").headers["Location"] == f"/shops/{north.id}-north-pottery"
    page = text(client.get(f"/shops/{north.id}-north-pottery"))
    assert "<h1>North Pottery</h1>" in page
    assert names_in(page, "Blue Mug", "Salad Bowl", "Spade") == ["Salad Bowl", "Blue Mug"]
    assert '<label for="shop">' not in page
    sorted_fragment = text(client.get(f"/shops/{north.id}-north-pottery?sort=price_asc", headers=HTMX))
    assert names_in(sorted_fragment, "Blue Mug", "Salad Bowl") == ["Blue Mug", "Salad Bowl"]


def test_empty_shop_says_so_in_page_and_fragment(client, make_shop):
    shop = make_shop(name="Bare")
    assert "This shop has no products" in text(client.get(f"/shops/{shop.id}-bare"))
    assert "This shop has no products" in text(client.get(f"/shops/{shop.id}-bare", headers=HTMX))


def test_category_page_lists_products_of_its_subcategories(client, catalog):
    kitchen = catalog["kitchen"]
    assert client.get(f"/categories/{kitchen.id}").status_code == 301
    page = text(client.get(f"/categories/{kitchen.id}-kitchen"))
    assert "<h1>Kitchen</h1>" in page
    assert names_in(page, "Blue Mug", "Salad Bowl", "Spade") == ["Salad Bowl", "Blue Mug"]
    assert f'href="/categories/{catalog["mugs"].id}-mugs"' in page
    assert client.get("/categories/424242").status_code == 404


def test_names_are_escaped_on_pages_and_fragments(client, make_shop, make_product):
    shop = make_shop(name='<img src=x onerror="alert(1)">')
    make_product(shop, name='<script>alert("x")</script>', description='<a hx-get="/evil">x</a>')
    for response in (client.get("/"), client.get("/", headers=HTMX), client.get("/shops")):
        body = text(response)
        assert "<script>alert" not in body and "<img src=x" not in body
    product_page = text(client.get("/products/1", follow_redirects=True))
    assert '<a hx-get="/evil">' not in product_page and "&lt;a hx-get=" in product_page


@pytest.mark.allow_5xx
def test_the_unavailable_page_renders_when_the_database_is_down(make_app, app_config, tmp_path):
    broken = make_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/x.db", "PROPAGATE_EXCEPTIONS": False}
    )
    client = broken.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:1"  # a signed-in user whose row cannot be loaded
    response = client.get("/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"  # issue 12: not a 500
    body = text(response)
    assert "temporarily unavailable" in body and "<footer" in body and "Log in" in body
