"""Every error under /api/v1 is problem+json; pages outside it keep their HTML error pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem


def test_invalid_json_is_400(api, owner):
    for raw in (b"{", b"", b"{'name': 'x'}", b'{"name": "x"} trailing', b"\xff\xfe\x00"):
        response = api.post("/shops", as_=owner, data=raw, content_type="application/json")
        assert "not valid JSON" in assert_problem(response, 400)["detail"]


def test_a_body_that_is_not_an_object_is_422(api, owner):
    body = assert_problem(api.post("/shops", as_=owner, json=["name", "x"]), 422, None)
    assert body["errors"][0]["message"] == "must be a JSON object"


def test_wrong_content_type_is_415(api, owner):
    response = api.post("/shops", as_=owner, data="name=x", content_type="application/x-www-form-urlencoded")
    assert "application/json" in assert_problem(response, 415)["detail"]
    assert_problem(api.post("/shops", as_=owner, data='{"name": "x"}', content_type="text/plain"), 415)
    assert_problem(api.post("/shops", as_=owner, data='{"name": "x"}'), 415)


def test_too_large_body_is_413(api, owner):
    big = '{"name": "' + "x" * (1024 * 1024) + '"}'
    assert_problem(api.post("/shops", as_=owner, data=big, content_type="application/json"), 413)


def test_unknown_api_route_is_a_problem_404(api):
    for path in ("/nope", "/products/abc", "/products/1/nope", ""):
        assert_problem(api.get(path), 404)


def test_wrong_method_is_405_with_allow(api):
    response = api.delete("/users/me")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    response = api.put("/products")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.allow_5xx
def test_unexpected_errors_are_a_generic_500(api, monkeypatch):
    from shopapp.api import shops as api_shops

    def explode(**kwargs):
        raise RuntimeError("SELECT secret FROM /srv/internal/path")

    monkeypatch.setattr(api_shops.shops, "list_shops", explode)
    body = assert_problem(api.get("/shops"), 500)
    assert "secret" not in str(body) and "Traceback" not in str(body) and "/srv" not in str(body)


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    response = client.post("/")
    assert response.status_code == 405 and response.mimetype == "text/html"


def test_problem_titles_follow_rfc_9110(api, owner):
    assert assert_problem(api.post("/shops", as_=owner, json={}), 422, "name")["title"] == "Unprocessable Content"


def test_ids_no_row_can_have_are_404_for_every_method(api, owner):
    for path in ("/shops/0", "/shops/4545266310", "/products/99999999999999999999999", "/categories/2147483648"):
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            assert_problem(api.call(method, path, as_=owner, json={}), 404)


def test_unknown_query_parameters_are_refused_like_unknown_fields(api, owner):
    body = assert_problem(api.get("/products?per-page=5"), 422, "per-page")
    assert body["errors"][0]["message"] == "is not a known parameter"
    assert_problem(api.get("/users/me?debug=1", as_=owner), 422, "debug")
    assert_problem(api.get("/products?sort="), 422, "sort")
    assert_problem(api.get("/users/me/products?status=", as_=owner), 422, "status")


def test_a_url_over_the_limit_is_414_in_the_apps_words(api, client):
    from shopapp.core.routing import MAX_URL_LENGTH

    for path in ("/products?q=" + "a" * MAX_URL_LENGTH, "/nowhere/" + "b" * MAX_URL_LENGTH, "/products/1" * 500):
        assert "414" in str(assert_problem(api.get(path), 414)["status"])
    assert_problem(api.post("/users/login?x=" + "c" * MAX_URL_LENGTH, json={}), 414)
    page = client.get("/?q=" + "d" * MAX_URL_LENGTH)
    assert page.status_code == 414 and page.mimetype == "text/html"
    assert client.post("/login?" + "e" * MAX_URL_LENGTH, data={}).status_code == 414  # before CSRF
    fits = "/api/v1/products?q=" + "f" * (MAX_URL_LENGTH - len("/api/v1/products?q="))
    assert client.get(fits).status_code == 422  # read, and refused for q's own length (QUERY_TEXT_MAX), not 414
    assert client.get(fits + "f").status_code == 414
