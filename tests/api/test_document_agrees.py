"""What the OpenAPI document allows, the API accepts, and what it refuses, the API refuses: edge values of each
constrained field, judged by the document's own schema (with jsonschema_rs, as schemathesis judges) and sent to
the API. Schemathesis draws values at random; these are the ones at the edges of each rule.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import jsonschema_rs
import pytest

from shopapp.api.openapi import openapi_document

DOC = openapi_document()
SCHEMAS = DOC["components"]["schemas"]
NAME_200 = "n" * 200

BODY_CASES: dict[tuple[str, str], list[Any]] = {
    ("ShopCreate", "name"): ["", " ", "\t\n", "a", " a ", NAME_200, f"  {NAME_200}\n", NAME_200 + "n",
                             "a" + " " * 198 + "b", "a" + " " * 199 + "b", "\u00a0Mug\u3000", "\u200d", "\u200dMug",
                             "Mug\u200b", "\U0001f469\u200d\U0001f4bb", "Mug\x00", "Mug\u202e", "\x1b[1mMug", "\u0600"],
    ("ShopCreate", "phone"): ["", "+33 1 23 45 67 89", "1" * 40, "1" * 41, " " + "1" * 40, "555-CALL",
                              "(01) 234 ext. 5", "\u0663\u0663", "12\n34", "1\x0b2", "\U0001d7ce"],
    ("ShopCreate", "email"): ["", "   ", "shop@example.com", "shop@example.test", "shop@MAIL.LOCAL",
                              "a" * 245 + "@example.com", "a" * 250 + "@example.com", "not an email", "\t"],
    ("ShopCreate", "address"): ["a" * 500, "a" * 501, "a" * 500 + " ", "line\nline", "bad\x1bescape", "\u2066x"],
    ("ShopCreate", "description"): ["x" * 5000, "x" * 5001, " " + "x" * 5000 + "\n", "tab\tok\r\n", "\x7f", ""],
    ("RegisterIn", "email"): ["a@example.com", "lzde&d/#@ao.test", "a@b.onion", "B@Example.COM", "a" * 250 + "@b.co"],
    ("RegisterIn", "password"): ["a" * 7, "a" * 8, "a" * 128, "a" * 129, "pass\x00word", "\u00e9" * 8],
    ("ProductCreate", "price"): ["19.99", "19.999", " 5", "1e3", "1000000", "1000000.01", 5, 5.5, 0.001, 1000000,
                                 -1, True, None],
    ("ProductCreate", "stock"): [5, 5.0, 5.5, -1, 1_000_000, 1_000_001, "5"],
    ("CategoryCreate", "parent_id"): [None, 0, 2**31, "1", 1.5],
}  # fmt: skip
QUERY_CASES: dict[str, list[str]] = {
    "page": ["1", "2.0", "0", "10001", "1.5", "-1", "+1", ""],
    "per_page": ["1", "100", "20.0", "101", "0"],
    "shop_id": ["1", "7.000", "2147483648", "1e3"],
    "q": ["", "lamp", "a" * 200, "a" * 201, "\u00e9" * 200],
    "in_stock": ["true", "false", "True", "1", ""],
    "min_price": ["0", "19.99", "1000000.00", "19.999", "1e3", " 5", "-1", ""],
    "sort": ["name", "NAME", ""],
}
# A field's base body: the other required fields, valid.
BASES = {
    "ShopCreate": ("/shops", {"name": "Edge"}),
    "RegisterIn": ("/users/register", {"name": "Edge", "password": "a long password", "email": "e@example.com"}),
    "ProductCreate": ("/products", {"name": "Edge", "price": "1.00", "stock": 1}),
    "CategoryCreate": ("/categories", {}),
}


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(value)


# A number as clients put one in a URL: str() of an int or a float (no exponent below 1e16, far above any id).
_URL_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _query_value(schema: dict[str, Any], raw: str) -> Any:
    """The value a query string carries, read as the schema's type reads it (``2.0`` is the integer 2)."""
    if schema.get("type") in ("integer", "number") and _URL_NUMBER.fullmatch(raw):
        return json.loads(raw)
    if schema.get("type") == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


@pytest.mark.parametrize("field", list(BODY_CASES), ids=[".".join(field) for field in BODY_CASES])
def test_a_body_field_is_accepted_exactly_when_the_document_allows_it(api, owner, make_shop, field):
    model, name = field
    path, base = BASES[model]
    schema = SCHEMAS[model]["properties"][name]
    shop_id = make_shop(owner).id
    wrong = []
    for value in BODY_CASES[field]:
        body = {**base, name: value}
        if model == "ProductCreate":
            body["shop_id"] = shop_id
        unique = uuid.uuid4().hex[:12]
        if model in ("CategoryCreate", "ProductCreate"):  # names unique among siblings / in a shop
            body["name"] = f"Edge {unique}"
        if model == "RegisterIn" and name != "email":
            body["email"] = f"edge-{unique}@example.com"
        allowed = _valid(schema, value)
        response = api.post(path, as_=owner, json=body)
        refused = {e["field"] for e in (response.get_json() or {}).get("errors") or []}
        if response.status_code not in ((200, 201) if allowed else (422,)) or not refused <= {name}:
            wrong.append((value, "allowed" if allowed else "refused", response.status_code, response.get_json()))
    assert wrong == []


@pytest.mark.parametrize("param", list(QUERY_CASES))
def test_a_query_parameter_is_accepted_exactly_when_the_document_allows_it(api, param):
    schema = {p["name"]: p["schema"] for p in DOC["paths"]["/api/v1/products"]["get"]["parameters"]}[param]
    extra = "&per_page=1" if param == "page" else ""  # page * per_page stays within the depth the description gives
    wrong = []
    for raw in QUERY_CASES[param]:
        allowed = _valid(schema, _query_value(schema, raw))
        response = api.get(f"/products?{param}={raw}{extra}")
        fields = [e["field"] for e in response.get_json().get("errors") or []]
        if response.status_code != (200 if allowed else 422) or fields not in ([], [param]):
            wrong.append((raw, "allowed" if allowed else "refused", response.status_code, response.get_json()))
    assert wrong == []


def test_the_rules_a_schema_cannot_state_are_described():
    products = DOC["paths"]["/api/v1/products"]
    page = {p["name"]: p for p in products["get"]["parameters"]}["page"]
    assert "page * per_page may not exceed 10000" in page["description"]
    assert "422 for none such" in products["post"]["description"]
    upload = DOC["paths"]["/api/v1/products/{product_id}/upload-image"]["post"]
    assert "judged by its content" in upload["description"]
    assert "once per image" in DOC["paths"]["/api/v1/products/{product_id}/images"]["post"]["description"]
    assert "exactly once" in DOC["paths"]["/api/v1/products/{product_id}/images/order"]["put"]["description"]
    assert all(op.get("description") for item in DOC["paths"].values() for op in item.values())


def test_the_deepest_page_is_refused_beyond_the_described_depth(api):
    assert api.get("/products?page=500&per_page=20").status_code == 200
    body = api.get("/products?page=501&per_page=20").get_json()
    assert body["status"] == 422 and body["errors"][0]["field"] == "page"


# The contract's lists (api-v1.md, "Lists"): each answers {items, page, per_page, total, pages, total_is_lower_bound}.
CONTRACT_LISTS = {"/api/v1/shops", "/api/v1/categories", "/api/v1/products", "/api/v1/users/me/products"}
LIST_FIELDS = {"items", "page", "per_page", "total", "pages", "total_is_lower_bound"}


def test_every_list_answers_the_contracts_list_shape_with_every_field_required():
    paged = {
        path: item["get"]
        for path, item in DOC["paths"].items()
        if any(p["name"] == "page" for p in item.get("get", {}).get("parameters", []))
    }
    assert set(paged) >= CONTRACT_LISTS
    for path, operation in paged.items():
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        schema = SCHEMAS[ref.rsplit("/", 1)[-1]]
        assert set(schema["properties"]) == LIST_FIELDS and set(schema["required"]) == LIST_FIELDS, path
        assert schema["properties"]["total_is_lower_bound"]["type"] == "boolean"


def test_a_list_answer_carries_total_is_lower_bound(api, make_shop):
    make_shop()
    for path in CONTRACT_LISTS - {"/api/v1/users/me/products"}:
        body = api.get(path.removeprefix("/api/v1")).get_json()
        assert set(body) == LIST_FIELDS and body["total_is_lower_bound"] is False, path
