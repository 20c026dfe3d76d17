"""The OpenAPI 3.1 document is valid and complete, the docs page renders it offline, and schemathesis
finds no response that breaks it (with and without a token)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from shopapp.api.openapi import openapi_document

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3"))
# A schema cannot state every business rule (names after trimming, an existing shop_id, a fresh
# If-Match, two fraction digits), so valid-looking data may still be refused with 412/422.
SCHEMATHESIS_CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "412", "422", "429"]
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
    assert len(documented) == 29


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
    assert "security" not in spec["paths"]["/api/v1/products"]["get"]
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


def test_docs_page_is_html_without_any_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for text in ("POST /api/v1/products", "ProductCreate", "bearer", "per_page", "Problem", "problem+json"):
        assert text in page
    assert "http://" not in page and "https://" not in page and "<script" not in page.split("</head>")[1]


# Built from the registered operations alone (no app needed), so each operation is its own test.
OPERATIONS = [(method.upper(), path) for path, item in openapi_document()["paths"].items() for method in item]
SECURED = [(m, p) for m, p in OPERATIONS if "security" in openapi_document()["paths"][p][m.lower()]]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _fuzz(app, method: str, path: str, mode: GenerationMode, headers=None, path_parameters=None) -> None:
    """Generate cases for one operation and check every response against the document (all default checks)."""
    config = SchemathesisConfig.from_str(SCHEMATHESIS_CONFIG)
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)[path][method]
    # Pinned ids would leave nothing to negate on some operations, so negative cases draw their own.
    pinned = path_parameters if mode is GenerationMode.POSITIVE else None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned or None)

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case) -> None:
        # A token only where the case has no Authorization of its own (negative cases may mangle it).
        token = headers() if headers and "Authorization" not in (case.headers or {}) else None
        case.call_and_validate(headers=token)

    run()


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[" ".join(op) for op in OPERATIONS])
def test_api_conforms_anonymously(app, method, path, mode):
    _fuzz(app, method, path, mode)


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("method", "path"), SECURED, ids=[" ".join(op) for op in SECURED])
def test_api_conforms_with_a_token(app, api, owner, make_shop, make_product, make_category, method, path, mode):
    """With the owner's token and the owner's own ids in the path, so edits really happen."""
    product = make_product(make_shop(owner))
    ids = {"shop_id": product.shop_id, "product_id": product.id, "category_id": make_category(owner).id}
    wanted = {name: value for name, value in ids.items() if "{" + name + "}" in path}
    _fuzz(app, method, path, mode, headers=lambda: api.auth(owner), path_parameters=wanted)
