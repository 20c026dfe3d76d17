"""Bad input on the HTML pages (issue 12, items 10-14): a 404 or a form error naming the field, never a 500."""

from __future__ import annotations

import re

import pytest

from shopapp.products.models import Product
from tests.pages.conftest import csrf_token, post, text

TOO_BIG = [2**31, 2**63 - 1, 2**63, 10**30]


def _page_rules_with_ids(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static/")) or "int" not in rule.rule:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        yield rule, methods


def _with_id(rule, ident: int) -> str:
    return re.sub(r"<(?:int[^:]*):[^>]+>", str(ident), re.sub(r"<(?!int)[^>]*>", "x", rule.rule))


def test_every_page_route_with_an_id_is_404_for_ids_no_row_can_have(app, client, owner):
    rules = list(_page_rules_with_ids(app))
    assert len(rules) >= 15, [rule.rule for rule, _ in rules]  # products, shops, categories, every dashboard id
    token = csrf_token(client)
    for rule, methods in rules:
        for ident in TOO_BIG:
            url = _with_id(rule, ident)
            for method in methods:
                response = client.open(url, method=method, data={"csrf_token": token} if method != "GET" else None)
                assert response.status_code == 404, (method, url, response.status_code)


def test_the_largest_storable_id_is_an_ordinary_404(app, client, owner):
    for rule, methods in _page_rules_with_ids(app):
        if "GET" in methods:
            assert client.get(_with_id(rule, 2**31 - 1)).status_code == 404, rule.rule


@pytest.mark.parametrize(
    "extra",
    ["endpoint=x", "_method=POST", "_external=1", "_scheme=javascript", "_anchor=x", "ident=5", "slug=y",
     "shop_id=99", "values=1", "page=2&page=3"],
)  # fmt: skip
def test_page_links_carry_only_known_filters(client, make_product, make_shop, owner, extra):
    shop = make_shop(owner, name="Big shop")
    for n in range(30):
        make_product(shop, name=f"Mug {n:02}")
    urls = ["/", f"/shops/{shop.id}-{shop.slug}", f"/dashboard/shops/{shop.id}/products"]
    for url in urls:
        response = client.get(f"{url}?page=2&q=Mug&sort=name&{extra}")
        assert response.status_code == 200, (url, response.status_code)
        links = re.findall(r'href="([^"]*[?&](?:amp;)?page=[^"]*)"', text(response))
        assert links, url
        for link in links:
            assert link.startswith("/") and not link.startswith("//"), link  # relative: never the Host header's
            keys = {pair.split("=")[0] for pair in link.replace("&amp;", "&").partition("?")[2].split("&")}
            assert keys <= {"page", "q", "sort"}, link
            assert "q=Mug" in link, link


def test_a_product_form_without_its_version_field_saves_last_write_wins(client, owner, make_shop, make_product, fresh):
    product = make_product(make_shop(owner), name="Mug", price="2.00", stock=3)
    data = {"name": "Mug", "price": "3.00", "stock": "4", "is_active": "y", "description": "", "category_id": ""}
    response = post(client, f"/dashboard/products/{product.id}/edit", data)
    assert response.status_code == 302, text(response)
    assert fresh(Product, product.id).price == 3
    quick = {f"p{product.id}-{k}": v for k, v in {"price": "5.00", "stock": "1", "is_active": "y"}.items()}
    response = post(client, f"/dashboard/products/{product.id}/quick", quick, headers={"HX-Request": "true"})
    assert response.status_code == 200, text(response)
    assert fresh(Product, product.id).price == 5
    for version in ("", "abc", "\u0663", "-1", "9" * 40):
        response = post(client, f"/dashboard/products/{product.id}/edit", {**data, "version": version})
        assert response.status_code in (302, 409, 412, 422), (version, response.status_code)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("name", "\u200c\u200d", "must not be empty"), ("name", "\x1b[31mMug", "control characters"),
     ("name", "\u200fMug", "control characters"), ("name", "Mug\u200b", "invisible"),
     ("price", "\u0663", "must be a number"), ("price", "1_000", "must be a number"),
     ("description", "a\x07b", "control characters"), ("stock", "1_000", "Not a valid integer"),
     ("stock", "\u0663", "Not a valid integer")],
)  # fmt: skip
def test_product_forms_refuse_what_the_api_refuses_beside_the_field(client, owner, make_shop, field, value, message):
    shop = make_shop(owner)
    data = {"name": "Mug", "price": "3.00", "stock": "4", "is_active": "y", "description": "", field: value}
    response = post(client, f"/dashboard/shops/{shop.id}/products/new", data)
    assert response.status_code == 422, text(response)
    assert message in text(response)


@pytest.mark.parametrize("value", ["\u0663", "1_000", "\uff13"])
def test_catalog_price_filters_with_other_than_ascii_digits_are_reported_beside_the_field(client, value):
    response = client.get(f"/?min_price={value}")
    assert response.status_code == 200
    assert "Ignored min price: must be a number" in text(response)


def test_a_stale_data_error_is_a_409_on_pages_and_in_the_api(client, owner, make_shop, make_product, monkeypatch, app):
    """Whatever write meets a row another transaction changed first, the ORM's StaleDataError is a 409, not a 500
    (real races: tests/ops/test_concurrency.py)."""
    from sqlalchemy.orm.exc import StaleDataError

    from shopapp.auth.tokens import issue_access_token
    from shopapp.products import services

    product = make_product(make_shop(owner))

    def stale(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'products' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(services, "delete_product", stale)
    page = post(client, f"/dashboard/products/{product.id}/delete")
    assert page.status_code == 409 and "changed this meanwhile" in text(page)
    fragment = post(client, f"/dashboard/products/{product.id}/delete", headers={"HX-Request": "true"})
    assert fragment.status_code == 409 and fragment.headers["HX-Retarget"] == "#request-error"
    with app.app_context():
        headers = {"Authorization": f"Bearer {issue_access_token(owner).access_token}"}
    api = client.delete(f"/api/v1/products/{product.id}", headers=headers)
    assert api.status_code == 409 and api.mimetype == "application/problem+json"
    assert "changed by another request meanwhile" in api.get_json()["detail"]
    assert "UPDATE" not in api.get_data(as_text=True)
