"""Hostile or sloppy input is a 4xx naming the field, never a 500 and never silently coerced."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import assert_problem


@pytest.fixture
def shop(owner, make_shop):
    return make_shop(owner, name="Shop")


def _raw_product(api, owner, shop, price_literal: str, **fields):
    others = json.dumps({"shop_id": shop.id, "name": "Mug", "stock": 1, **fields})
    raw = f'{others[:-1]}, "price": {price_literal}}}'  # each key once: a key given twice is refused
    return api.post("/products", as_=owner, data=raw, content_type="application/json")


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "-0.01", '"abc"', "true", "false", "null", "1.999",
     '"1.999"', "1000000.01", '"NaN"', '"Infinity"', '""', "[]", "{}", "1e999999999", "1e-999999999", '"1e999999999"'],
)  # fmt: skip
def test_bad_prices(api, owner, shop, literal):
    assert_problem(_raw_product(api, owner, shop, literal), 422, "price")


def test_good_price_literals(api, owner, shop):
    """A JSON number is a price if it is a whole number of cents, however written (the document's multipleOf)."""
    for n, (literal, shown) in enumerate(
        [('"5"', "5.00"), ('"0.5"', "0.50"), ('"1000000.00"', "1000000.00"), ("1E+1", "10.00"), ("0.10", "0.10"),
         ("19.990", "19.99"), ("1.50e-1", "0.15"), ("1000000", "1000000.00")]
    ):  # fmt: skip
        response = _raw_product(api, owner, shop, literal, name=f"P{n}")
        assert response.status_code == 201, (literal, response.get_json())
        assert response.get_json()["price"] == shown


@pytest.mark.parametrize("literal", ['" 5 "', '"1e3"', '"+5"', '".5"', '"5."', '"-0"', '"5.000"', '"0001000000"'])
def test_a_price_string_is_spelled_as_the_document_says(api, owner, shop, literal):
    """The document's pattern for a price string is the API's: digits, then at most 2 after a point."""
    body = assert_problem(_raw_product(api, owner, shop, literal), 422, "price")
    assert body["errors"][0]["message"] in (
        'must be written as digits with at most 2 after the point, such as "19.99"',
        "must have at most 2 decimal places",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stock", 1.5), ("stock", "5"), ("stock", True), ("stock", -1), ("stock", 1_000_001), ("stock", None),
        ("name", 5), ("name", ""), ("name", "   "), ("name", "x" * 10_000), ("name", "a\x00b"),
        ("name", "Mug\u202eevil"), ("name", ["Mug"]), ("description", "x" * 5001), ("description", "nul\x00"),
        ("is_active", "true"), ("name", "lone \ud800 surrogate"), ("shop_id", 2**31), ("category_id", 9268319902961),
        ("is_active", 1), ("category_id", "1"), ("category_id", 0), ("category_id", 1.5), ("shop_id", None),
        ("shop_id", True), ("owner_id", 1), ("id", 1), ("created_at", "2026-01-01T00:00:00Z"),
        ("deleted_at", None), ("is_admin", True), ("version", 9), ("slug", "x"),
    ],
)  # fmt: skip
def test_bad_product_fields(api, owner, shop, field, value):
    payload = {"shop_id": shop.id, "name": "Mug", "price": "1.00", "stock": 1, field: value}
    assert_problem(api.post("/products", as_=owner, json=payload), 422, field)


def test_integral_json_numbers_count_as_integers(api, owner, shop):
    raw = f'{{"shop_id": {shop.id}.0, "name": "Two", "price": 1, "stock": 5.0}}'
    response = api.post("/products", as_=owner, data=raw, content_type="application/json")
    assert response.status_code == 201 and response.get_json()["stock"] == 5


def test_every_problem_is_reported_once(api, owner):
    response = api.post("/products", as_=owner, json={"shop_id": "1", "name": 1, "price": True, "stock": 1.5, "x": 1})
    assert_problem(response, 422, "shop_id", "name", "price", "stock", "x")


@pytest.mark.parametrize("depth", [1_000, 10_000, 100_000])
def test_deep_nesting_is_refused_not_crashed(api, owner, depth):
    for raw in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = api.post("/shops", as_=owner, data=raw, content_type="application/json")
        assert response.status_code in (400, 413, 422), response.status_code
        assert response.mimetype == "application/problem+json"


def test_huge_integers_are_refused(api, owner, shop):
    raw = f'{{"shop_id": {shop.id}, "name": "Mug", "price": 1, "stock": {"9" * 5000}}}'
    assert response_is_4xx(api.post("/products", as_=owner, data=raw, content_type="application/json"))
    raw = f'{{"shop_id": {"9" * 30}, "name": "Mug", "price": 1, "stock": 1}}'
    assert_problem(api.post("/products", as_=owner, data=raw, content_type="application/json"), 422, "shop_id")


def response_is_4xx(response) -> bool:
    return 400 <= response.status_code < 500 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "query",
    ["per_page=100000", "per_page=-1", "page=-5", "page=99999999999", "sort=DROP TABLE", "in_stock=1",
     "shop_id=1e3", "min_price=1.001", "max_price=Infinity", "category_id=-1", "q=%00"],
)  # fmt: skip
def test_bad_catalog_queries_name_the_parameter(api, query):
    assert_problem(api.get(f"/products?{query}"), 422, query.split("=")[0])


def test_login_with_nul_and_long_values_is_a_clean_refusal(api):
    assert_problem(api.post("/users/login", json={"email": "a\x00@example.com", "password": "x"}), 422, "email")
    assert_problem(api.post("/users/login", json={"email": "a" * 10_000, "password": "x" * 10_000}), 401)


LOOSE_NAMES = ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", "\u200d", "Mug\u200b", "\x1b[31mMug", "Mug\x07", "Mug\x85",
               "\u200eMug", "Mug\u200f", "\u061cMug", "\t\x0b"]  # fmt: skip
LOOSE_PRICES = [
    '"\u0663"',
    '"\u0661\u0660.\u0665\u0660"',
    '"1_000"',
    '"1_0.00"',
    '"\uff13"',
    '"\U0001d7d1"',
    '"0x10"',
    '" 1 000"',
    '"1,50"',
]


@pytest.mark.parametrize("value", LOOSE_NAMES)
def test_invisible_and_control_characters_in_names_are_refused(api, owner, shop, value):
    payload = {"shop_id": shop.id, "name": value, "price": "1.00", "stock": 1}
    assert_problem(api.post("/products", as_=owner, json=payload), 422, "name")
    assert_problem(api.post("/shops", as_=owner, json={"name": value}), 422, "name")


def test_control_characters_in_descriptions_are_refused_but_newlines_and_tabs_are_kept(api, owner, shop):
    payload = {"shop_id": shop.id, "name": "Mug", "price": "1.00", "stock": 1}
    assert_problem(api.post("/products", as_=owner, json={**payload, "description": "a\x1b[2Jb"}), 422, "description")
    response = api.post("/products", as_=owner, json={**payload, "description": "line 1\n\tline 2\r\n"})
    assert response.status_code == 201, response.get_json()
    joined = api.post("/products", as_=owner, json={**payload, "name": "👩\u200d💻 mug"})  # ZWJ between letters is fine
    assert joined.status_code == 201, joined.get_json()


@pytest.mark.parametrize("literal", LOOSE_PRICES)
def test_prices_with_other_than_ascii_digits_are_refused(api, owner, shop, literal):
    assert_problem(_raw_product(api, owner, shop, literal), 422, "price")


@pytest.mark.parametrize("value", ["\u0663", "1_000", "\uff13"])
def test_price_filters_with_other_than_ascii_digits_are_refused(api, value):
    assert_problem(api.get(f"/products?min_price={value}"), 422, "min_price")


@pytest.mark.parametrize(
    ("raw", "key"),
    [('{{"shop_id": {id}, "name": "Mug", "name": "Other", "price": "1", "stock": 1}}', "name"),
     ('{{"shop_id": {id}, "shop_id": {id}, "name": "Mug", "price": "1", "stock": 1}}', "shop_id"),
     ('{{"shop_id": {id}, "name": "Mug", "price": "1", "stock": 1, "x": {{"a": 1, "a": 2}}}}', "a")],
)  # fmt: skip
def test_a_key_given_twice_is_422_naming_it(api, owner, shop, raw, key):
    response = api.post("/products", as_=owner, data=raw.format(id=shop.id), content_type="application/json")
    assert_problem(response, 422, key)
    assert "more than once" in json.dumps(response.get_json())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1"])
def test_a_body_not_in_utf8_is_400_saying_so(api, owner, encoding):
    raw = json.dumps({"name": "Café"}, ensure_ascii=False).encode(encoding)
    response = api.post("/shops", as_=owner, data=raw, content_type="application/json")
    assert_problem(response, 400)
    assert "UTF-8" in response.get_json()["detail"]


def test_a_body_declared_in_another_charset_is_415(api, owner):
    raw = json.dumps({"name": "Shop"}).encode("utf-16")
    response = api.post("/shops", as_=owner, data=raw, content_type="application/json; charset=utf-16")
    assert_problem(response, 415)
    ok = api.post("/shops", as_=owner, data=b'{"name": "Shop"}', content_type="application/json; charset=UTF-8")
    assert ok.status_code == 201
