"""The OpenAPI 3.1 document is valid and complete, the docs page renders it offline, and schemathesis
finds no response that breaks it (with and without a token), with every check it has, at its defaults:
positive data (what the document allows) is accepted, negative data refused."""

from __future__ import annotations

import functools
import io
import json
import os
import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from PIL import Image
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import (
    NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
)
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from sqlalchemy import delete, update

from shopapp.api.openapi import openapi_document
from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.core.pagination import DEFAULT_PER_PAGE, last_page
from shopapp.extensions import db, limiter
from shopapp.products.models import Product, ProductImage
from shopapp.shops.models import Shop

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3"))
# Every check at its defaults (as `schemathesis run --checks all`), but three: an If-Match the document allows
# (any string) may be stale, and a stale one is 412 by design (RFC 9110 13.1.1), not a refused value; an
# upload with more parts than its images and alt texts can fill is refused before it is read, as too large
# (413, as the contract has it for a body too large), not 422; and a checkout of an empty cart is 422 by the
# contract whatever the body (the cart is state, not a value the document can describe).
SCHEMATHESIS_CONFIG = f"""
[[operations]]
include-operation-id = ["update_product_put", "update_product_patch"]
checks.positive_data_acceptance.expected-statuses = {json.dumps([*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "412"])}

[[operations]]
include-operation-id = ["checkout"]
checks.positive_data_acceptance.expected-statuses = {json.dumps([*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"])}

[[operations]]
include-operation-id = ["upload_image", "upload_images"]
checks.negative_data_rejection.expected-statuses = {json.dumps([*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"])}
"""


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_document_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_route_is_documented(app, spec):
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routes = {
        (rule.rule.replace("<int:", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi_json", "api.docs")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert documented == routes
    assert len(documented) == 45


def test_security_and_error_responses(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    create = spec["paths"]["/api/v1/products"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductCreate"
    }
    for code in ("400", "401", "403", "409", "413", "415", "422", "500"):
        assert create["responses"][code]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert spec["paths"]["/api/v1/products"]["get"]["security"] == []  # public: anyone may call it
    login = spec["paths"]["/api/v1/users/login"]["post"]
    assert "Retry-After" in login["responses"]["429"]["headers"]
    params = {p["name"]: p for p in spec["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert params["sort"]["schema"]["enum"] == ["relevance", "newest", "price_asc", "price_desc", "name"]
    assert params["per_page"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
        "title": "Per Page",
    }
    assert spec["components"]["schemas"]["ProductCreate"]["additionalProperties"] is False
    assert spec["components"]["schemas"]["ProductOut"]["properties"]["price"]["type"] == "string"


def test_restores_document_their_409(spec):
    for path in ("/api/v1/shops/{shop_id}/restore", "/api/v1/products/{product_id}/restore"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"200", "403", "404", "409"} <= set(responses), path
        assert "not deleted" in responses["409"]["description"]


def test_my_shops_are_documented_with_their_statuses_and_pages(spec):
    operation = spec["paths"]["/api/v1/users/me/shops"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShopPage"
    }
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"page", "per_page", "status"}
    assert params["status"]["schema"]["enum"] == ["active", "inactive", "deleted"]
    assert "default" not in params["status"]["schema"]
    assert "active and inactive" in params["status"]["description"]
    assert {"401", "422"} <= set(operation["responses"])


def test_docs_page_is_html_without_any_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for text in ("POST /api/v1/products", "ProductCreate", "bearer", "per_page", "Problem", "problem+json"):
        assert text in page
    # No CDN: the only absolute address is the page's own canonical link (shopapp/core/routing.py canonical_url).
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://localhost/api/v1/docs"]
    assert "<script" not in page.split("</head>")[1]


# Built from the registered operations alone (no app needed), so each operation is its own test.
OPERATIONS = [(method.upper(), path) for path, item in openapi_document()["paths"].items() for method in item]
SECURED = [(m, p) for m, p in OPERATIONS if openapi_document()["paths"][p][m.lower()]["security"]]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def test_schemathesis_runs_every_check_at_its_defaults(app):
    """As `schemathesis run --checks all` would (max_response_time needs a limit, so it has none); the two
    exceptions hold only where they apply: 412 for a stale If-Match, 413 for an upload of too many parts, 422 for
    the checkout of an empty cart."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=SchemathesisConfig.from_str(SCHEMATHESIS_CONFIG)
    )
    for method, path in OPERATIONS:
        checks = schema.config.checks_config_for(operation=schema[path][method], phase=None)
        names = [name for name in dir(checks) if hasattr(getattr(checks, name), "enabled")]
        assert "positive_data_acceptance" in names and "negative_data_rejection" in names
        assert [name for name in names if not getattr(checks, name).enabled] == ["max_response_time"]
        spec = openapi_document()["paths"][path][method.lower()]
        stale_if_match = ["412"] if any(p["name"] == "If-Match" for p in spec["parameters"]) else []
        empty_cart = ["422"] if path == "/api/v1/checkout" else []
        expected = [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, *stale_if_match, *empty_cart]
        assert sorted(checks.positive_data_acceptance.expected_statuses) == sorted(expected), (method, path)
        upload = "multipart/form-data" in spec.get("requestBody", {}).get("content", {})
        expected = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, *(["413"] if upload else [])]
        assert sorted(checks.negative_data_rejection.expected_statuses) == sorted(expected), (method, path)


@functools.cache
def _small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _as_described(case: Any, refs: dict[str, Any]) -> Any:
    """A positive case made to keep the rules the document can only describe (operation and parameter
    descriptions), so that "valid" means valid: a reference names a row of the caller's (``refs``; 422 for
    none such, 403 for another's), page * per_page stays within the list depth, an upload is an image, alt is
    given once per image, and image_ids lists the product's images."""
    query = case.query or {}
    if isinstance(query.get("page"), int):
        query["page"] = min(query["page"], last_page(query.get("per_page", DEFAULT_PER_PAGE)))
    body = case.body
    if isinstance(body, dict):
        for key in ("shop_id", "category_id", "parent_id", "image_ids"):
            if body.get(key) is not None and key in refs:
                body[key] = refs[key]
        if body.get("action") == "set_category" and body.get("value") is not None and "category_id" in refs:
            body["value"] = refs["category_id"]  # a bulk move: to an existing category
        if "image" in body:
            images = body["image"]
            body["image"] = [_small_png() for _ in images] if isinstance(images, list) else _small_png()
            alts = body.get("alt")
            if isinstance(alts, list) and alts and isinstance(images, list):
                body["alt"] = (alts + [""] * len(images))[: len(images)]
    return case


def _fuzz(app, method: str, path: str, mode: GenerationMode, headers=None, path_parameters=None, refs=None) -> None:
    """Generate cases for one operation and check every response against the document (all default checks)."""
    config = SchemathesisConfig.from_str(SCHEMATHESIS_CONFIG)
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)[path][method]
    # Pinned ids would leave nothing to negate on some operations, so negative cases draw their own.
    pinned = path_parameters if mode is GenerationMode.POSITIVE else None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned or None)
    if mode is GenerationMode.POSITIVE:
        strategy = strategy.map(functools.partial(_as_described, refs=refs or {}))

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case) -> None:
        # A token only where the case has no Authorization of its own, and did not lose it on purpose: negative
        # cases may mangle or drop it (the document marks it required), and a token added back would undo that.
        header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
        dropped = header is not None and header.mode is GenerationMode.NEGATIVE
        token = headers() if headers and "Authorization" not in (case.headers or {}) and not dropped else None
        CASES[("with a token" if headers else "anonymously", f"{method} {path}", str(mode))] += 1
        case.call_and_validate(headers=token)

    run()


# Cases sent, by (caller, operation, mode): the end of the session sums them up (tests/api/conftest.py).
CASES: Counter[tuple[str, str, str]] = Counter()


def cases_summary() -> list[str]:
    lines = []
    for caller in ("anonymously", "with a token"):
        modes: Counter[str] = Counter()
        operations = set()
        for (who, operation, mode), count in CASES.items():
            if who == caller:
                modes[mode] += count
                operations.add(operation)
        if operations:
            by_mode = ", ".join(f"{count} {mode}" for mode, count in sorted(modes.items()))
            lines.append(f"schemathesis {caller}: {modes.total()} cases ({by_mode}) over {len(operations)} operations")
    return lines


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[" ".join(op) for op in OPERATIONS])
def test_api_conforms_anonymously(app, method, path, mode):
    _fuzz(app, method, path, mode)


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("method", "path"), SECURED, ids=[" ".join(op) for op in SECURED])
def test_api_conforms_with_a_token(app, api, owner, make_shop, make_product, make_category, method, path, mode):
    """With the owner's token and the owner's own ids in the path, so edits really happen; references in
    positive bodies name the owner's rows too (a parent other than the category edited: no cycle)."""
    product = make_product(make_shop(owner))
    ids = {"shop_id": product.shop_id, "product_id": product.id, "category_id": make_category(owner).id}
    wanted = {name: value for name, value in ids.items() if "{" + name + "}" in path}
    refs = {**ids, "parent_id": make_category(owner, name="Parent").id, "image_ids": []}
    _fuzz(app, method, path, mode, headers=lambda: api.auth(owner), path_parameters=wanted, refs=refs)


# Stateful: schemathesis chains calls along the document's links (create a shop, then read, edit,
# delete and restore that shop), checking every answer with all default checks. CI-sized by default;
# raise the env vars for a long run, e.g. SCHEMATHESIS_STATEFUL_EXAMPLES=500 SCHEMATHESIS_STATEFUL_STEPS=50.
STATEFUL_EXAMPLES = int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "15"))
STATEFUL_STEPS = int(os.environ.get("SCHEMATHESIS_STATEFUL_STEPS", "10"))


def test_create_operations_link_to_the_new_row(spec):
    links = spec["paths"]["/api/v1/shops"]["post"]["responses"]["201"]["links"]
    assert links["get_shop"] == {"operationId": "get_shop", "parameters": {"path.shop_id": "$response.body#/id"}}
    assert {"update_shop_patch", "delete_shop"} <= set(links) and "restore_shop" not in set(links)
    assert links["create_product"]["requestBody"] == {"shop_id": "$response.body#/id"}
    assert "adjust_stock" in spec["paths"]["/api/v1/products"]["post"]["responses"]["201"]["links"]
    assert "get_category" in spec["paths"]["/api/v1/categories"]["post"]["responses"]["201"]["links"]


def _reset_catalog(app, keep: User | None) -> None:  # type: ignore[no-untyped-def]
    """Delete every row the API can create, except the ``keep`` user, and forget failed logins."""
    with app.app_context():
        db.session.execute(update(Category).values(parent_id=None))  # RESTRICT is checked row by row: children first
        for model in (ProductImage, Product, Shop, Category):
            db.session.execute(delete(model))
        db.session.execute(delete(User).where(User.id != (keep.id if keep else 0)))
        db.session.commit()
        limiter.reset()


# Only the document's own links: schemathesis' inferred ones would also chain POST /shops into
# POST /shops/{id}/restore, which is a 404 by design for a live row (see test_shops.py).
# Scenarios start from an empty catalog and draw references (a shop_id, a parent_id) before any row exists, or
# after their row is gone: those are 422 by the contract, and the links' stale If-Match 412, so here positive
# data may be refused with either; the runs per operation above hold positive data to the defaults.
STATEFUL_CONFIG = f"""
[checks.positive_data_acceptance]
expected-statuses = {json.dumps([*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "412", "422"])}

[phases.stateful.inference]
algorithms = []
"""


def _run_stateful(app, token=None, keep: User | None = None) -> None:  # type: ignore[no-untyped-def]
    config = SchemathesisConfig.from_str(STATEFUL_CONFIG)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    if token is not None:
        # Registered as the schema's auth, so schemathesis knows the token is real: its auth checks then
        # remove or spoil it on purpose and expect 401. Fetched per call, as a step may have logged out.
        @schema.auth(refresh_interval=None)
        class OwnerToken:
            def get(self, case, context):  # type: ignore[no-untyped-def]
                return token()

            def set(self, case, data, context):  # type: ignore[no-untyped-def]
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            """Each scenario starts from the same rows, so a scenario replays the same (Hypothesis needs that)."""
            _reset_catalog(app, keep=keep)

    Scenario.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            # No shrinking: scenarios share one database, so replaying a shorter one would meet other rows.
            phases=[Phase.generate],
            database=None,
        )
    )


def test_api_conforms_statefully_anonymously(app):
    _run_stateful(app)


def test_api_conforms_statefully_with_a_token(app, api, owner):
    _run_stateful(app, token=lambda: api.token(owner), keep=owner)


def test_the_sku_field_and_filters_are_documented(spec):
    schemas = spec["components"]["schemas"]
    sku = schemas["ProductCreate"]["properties"]["sku"]
    string = next(option for option in sku["anyOf"] if option.get("type") == "string")
    assert string["pattern"] == r"^[\u0021-\u007e]{1,64}$" and {"type": "null"} in sku["anyOf"]
    assert "case-insensitively" in sku["description"]
    assert "sku" in schemas["ProductUpdate"]["properties"] and "sku" in schemas["ProductOut"]["required"]
    for path in ("/api/v1/products", "/api/v1/users/me/products"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert params["sku"]["schema"]["pattern"] == r"^[\u0021-\u007e]{1,64}$", path
