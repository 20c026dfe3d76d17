import logging
import re

import pytest

from shopapp.extensions import db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_database_is_away(make_app, app_config, tmp_path):
    broken = make_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_home_page_lists_products_from_the_database(client, make_product):
    make_product(name="Blue Enamel Mug")
    make_product(name="Hidden Thing", is_active=False)
    page = client.get("/").get_data(as_text=True)
    assert "Blue Enamel Mug" in page
    assert "Hidden Thing" not in page
    assert '<p class="results-count muted">1 product found</p>' in page


def test_home_page_empty_catalog_says_so(client):
    page = client.get("/").get_data(as_text=True)
    assert "The catalog is empty" in page
    assert "<nav" in page and "<footer" in page


def test_layout_loads_assets_from_this_server_only(client):
    page = client.get("/").get_data(as_text=True)
    assert "/static/vendor/htmx.min.js" in page
    assert "/static/vendor/pico.min.css" in page
    # The only absolute address is the page's own canonical link (shopapp/core/routing.py canonical_url).
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://localhost/"]


def test_vendor_assets_are_installed_and_served(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.data[:2000]
    response.close()


def test_unknown_page_is_html_404_in_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "<title>Not Found · ShopApp</title>" in body and "<h1>Not Found</h1>" in body
    assert "We could not find that page." in body and "<footer" in body


def test_request_id_is_echoed_and_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="shopapp.request")
    logging.getLogger("shopapp").propagate = True
    try:
        response = client.get("/healthz", headers={"X-Request-ID": "abc12345-test"})
    finally:
        logging.getLogger("shopapp").propagate = False
    assert response.headers["X-Request-ID"] == "abc12345-test"
    lines = [r for r in caplog.records if r.name == "shopapp.request"]
    assert lines and lines[-1].request_id == "abc12345-test"
    assert "status=200" in lines[-1].getMessage() and "path=/healthz" in lines[-1].getMessage()


def test_request_id_is_generated_when_missing_or_unsafe(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"})
    assert len(response.headers["X-Request-ID"]) == 32
    assert response.headers["X-Request-ID"] != "bad id <script>"


@pytest.mark.sqlite_only  # PostgreSQL always enforces them; both: test_integrity.py::test_foreign_keys_are_enforced
def test_sqlite_enforces_foreign_keys(app_ctx):
    assert db.session.execute(db.text("PRAGMA foreign_keys")).scalar() == 1
