"""The dashboard's CSV import (issue 17): upload -> the dry run's report -> apply -> undo; cancel; a file refused
as a whole on the form; invalid rows in an accessible table; another owner's shop and import are 404."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopapp.extensions import db
from shopapp.products.import_models import ProductImport
from shopapp.products.models import Product
from tests.pages.conftest import post, text

HEADER = "sku,name,description,price,stock,category,is_active\r\n"


@pytest.fixture
def shop(owner, make_shop, make_product):
    shop = make_shop(owner, name="Attic")
    make_product(shop, name="Mug", sku="MUG-1", price=Decimal("5.00"), stock=3)
    return shop


def upload(client, shop, body: str | bytes, **kwargs):
    data = body.encode("utf-8") if isinstance(body, str) else body
    url = f"/dashboard/shops/{shop.id}/products/import"
    return post(client, url, {"file": (io.BytesIO(data), "products.csv")}, content_type="multipart/form-data",
                **kwargs)  # fmt: skip


def products(app, shop) -> list[tuple]:
    with app.app_context():
        stmt = select(Product.name, Product.price, Product.deleted_at.is_(None)).where(Product.shop_id == shop.id)
        return [tuple(row) for row in db.session.execute(stmt.order_by(Product.id))]


def test_upload_report_apply_undo(app, client, shop):
    page = text(client.get(f"/dashboard/shops/{shop.id}/products"))
    assert f'href="/dashboard/shops/{shop.id}/products/import"' in page and ">Import CSV</a>" in page
    form = text(client.get(f"/dashboard/shops/{shop.id}/products/import"))
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form and 'name="csrf_token"' in form
    response = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n,New,,1.00,1,,true\r\n")
    assert response.status_code == 302
    report_url = response.headers["Location"]
    report = text(client.get(report_url))
    assert re.search(r"<dt>Created</dt><dd>1</dd>\s*<dt>Updated</dt><dd>1</dd>\s*<dt>Unchanged</dt><dd>0</dd>", report)
    assert ">Apply</button>" in report and ">Cancel</button>" in report
    assert products(app, shop) == [("Mug", Decimal("5.00"), True)]  # a dry run writes no product

    response = post(client, report_url + "/apply")
    assert response.status_code == 302 and response.headers["Location"] == f"/dashboard/shops/{shop.id}/products"
    table = text(client.get(response.headers["Location"]))
    assert "Import applied: created 1, updated 1, unchanged 0, invalid 0." in table
    assert f'action="{report_url}/undo"' in table and ">Undo import</button>" in table
    assert products(app, shop) == [("Big mug", Decimal("6.00"), True), ("New", Decimal("1.00"), True)]
    assert "Import applied" in text(client.get(report_url)) and ">Undo import</button>" in text(client.get(report_url))

    response = post(client, report_url + "/undo")
    assert "Import undone: 1 products back as they were, 1 created ones deleted." in text(
        client.get(response.headers["Location"])
    )
    assert products(app, shop) == [("Mug", Decimal("5.00"), True), ("New", Decimal("1.00"), False)]
    again = post(client, report_url + "/undo")
    assert "The import cannot be undone: This import was undone already." in text(client.get(again.headers["Location"]))


def test_invalid_rows_are_listed_and_cannot_be_applied(app, client, shop):
    response = upload(client, shop, HEADER + "mug-1,,,abc,3,,true\r\n,<b>x</b>,,1,1,Nowhere,true\r\n")
    report = text(client.get(response.headers["Location"]))
    assert "<caption>Every problem of the invalid rows</caption>" in report
    assert '<th scope="col">Line</th><th scope="col">Column</th><th scope="col">Problem</th>' in report
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", report)
    assert rows == [
        ("2", "name", "must not be empty"),
        ("2", "price", "must be a number such as 19.99"),
        ("3", "category", "no category has this path (create it first)"),
    ]
    assert ">Apply</button>" not in report and "2 rows are invalid" in report and "<b>x</b>" not in report
    refused = post(client, response.headers["Location"] + "/apply")
    assert "2 rows are invalid" in text(client.get(refused.headers["Location"]))
    assert products(app, shop) == [("Mug", Decimal("5.00"), True)]


def test_a_file_refused_whole_is_said_on_the_form_and_nothing_kept(app, client, shop, row_count):
    response = upload(client, shop, b"\x89PNG\r\n\x1a\n\x00\x00")
    assert response.status_code == 422
    assert 'class="form-errors" role="alert"' in text(response) or "field-error" in text(response)
    assert "This is not a CSV file (it holds binary data)." in text(response)
    missing = post(client, f"/dashboard/shops/{shop.id}/products/import", content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a CSV file to import." in text(missing)
    assert row_count(ProductImport) == 0


def test_a_file_over_20_mb_is_refused_before_it_is_read(client, shop, row_count):
    response = upload(client, shop, b"x" * (21 * 1024 * 1024))
    assert response.status_code == 413 and "That upload is too large." in text(response)
    assert row_count(ProductImport) == 0


def test_cancel_forgets_the_import(app, client, shop, row_count):
    response = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n")
    cancelled = post(client, response.headers["Location"] + "/cancel")
    assert "Import cancelled; nothing was changed." in text(client.get(cancelled.headers["Location"]))
    assert row_count(ProductImport) == 0 and products(app, shop) == [("Mug", Decimal("5.00"), True)]
    assert client.get(response.headers["Location"]).status_code == 404


def test_a_plan_changed_meanwhile_shows_the_new_dry_run(app, client, shop):
    response = upload(client, shop, HEADER + "mug-1,Mug,,6.00,3,,true\r\n")
    with app.app_context():
        db.session.execute(Product.__table__.update().values(price=Decimal("6.00"), version=Product.version + 1))
        db.session.commit()
    refused = post(client, response.headers["Location"] + "/apply")
    report = text(client.get(refused.headers["Location"]))
    assert "changed since the dry run" in report
    assert re.search(r"<dt>Updated</dt><dd>0</dd>\s*<dt>Unchanged</dt><dd>1</dd>", report)
    assert post(client, response.headers["Location"] + "/apply").headers["Location"].endswith("/products")


def test_another_owners_shop_and_import_are_404(app, client, auth, shop, make_shop, make_user):
    response = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n")
    theirs = make_shop(make_user(email="other@example.com"), name="Theirs")
    assert client.get(f"/dashboard/shops/{theirs.id}/products/import").status_code == 404
    assert upload(client, theirs, HEADER).status_code == 404
    auth.logout()
    auth.login(theirs.owner)
    for suffix in ("", "/apply", "/cancel", "/undo"):
        url = response.headers["Location"] + suffix
        assert (client.get(url) if not suffix else post(client, url)).status_code == 404
