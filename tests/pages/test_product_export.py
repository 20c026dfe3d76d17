"""The products CSV export (issue 17), from the dashboard and ``flask export-products``: the rows parsed back
equal the database's, only the owner's products appear, the table's filters apply, and it streams in batches."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopapp.core.csv_cells import unescape_cell
from shopapp.extensions import db
from shopapp.products import export
from shopapp.products.models import Product
from tests.pages.conftest import HTMX, text

HEADER = ["sku", "name", "description", "price", "stock", "category", "is_active"]
TEXT_COLUMNS = ("sku", "name", "description", "category")


def parsed(body: str) -> list[dict[str, str]]:
    """The CSV's rows as the import will read them: by the csv module, text cells unescaped."""
    reader = csv.reader(io.StringIO(body, newline=""))
    assert next(reader) == HEADER
    rows = [dict(zip(HEADER, row, strict=True)) for row in reader]
    return [{k: unescape_cell(v) if k in TEXT_COLUMNS else v for k, v in row.items()} for row in rows]


def database_rows(app, paths: dict[int | None, str]) -> list[dict[str, str]]:
    with app.app_context():
        products = db.session.scalars(select(Product).where(Product.deleted_at.is_(None)).order_by(Product.id))
        return [
            {
                "sku": p.sku or "",
                "name": p.name,
                "description": p.description,
                "price": f"{p.price:.2f}",
                "stock": str(p.stock),
                "category": paths[p.category_id],
                "is_active": "true" if p.is_active else "false",
            }
            for p in products
        ]


@pytest.fixture
def catalog(owner, make_shop, make_category, make_product):
    """Two shops of the owner's with hard cells, and another owner's shop."""
    home = make_category(owner, name="Home & Kitchen")
    mugs = make_category(owner, name="Mugs", parent_id=home.id)
    shop, second = make_shop(owner, name="Attic"), make_shop(owner, name="Cellar")
    make_product(shop, name="Tasse «café» 咖啡", sku="=SKU-1", price=Decimal("12.50"), category_id=mugs.id,
                 description='Says "hi", then, a comma\nand a new line\r\nand more')  # fmt: skip
    make_product(shop, name='=HYPERLINK("http://evil")', sku="'=quoted", price=Decimal("0"), stock=0)
    make_product(shop, name="-5% sale", description="@everyone\tTabbed", is_active=False, category_id=home.id)
    make_product(second, name="Plain", sku="P-1", price=Decimal("1000000"))
    make_product(make_shop(name="Elsewhere"), name="Not mine", sku="X-1")
    return {
        "shop": shop,
        "second": second,
        "paths": {None: "", home.id: "Home & Kitchen", mugs.id: "Home & Kitchen > Mugs"},
    }


def test_a_shops_export_parses_back_to_its_rows(app, client, catalog):
    shop = catalog["shop"]
    response = client.get(f"/dashboard/shops/{shop.id}/products.csv?status=active")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"] == f'attachment; filename="products-shop-{shop.id}-active.csv"'
    body = response.get_data().decode("utf-8")
    expected = [row for row in database_rows(app, catalog["paths"]) if row["is_active"] == "true"][:2]
    assert parsed(body) == expected
    assert expected[0]["category"] == "Home & Kitchen > Mugs" and expected[0]["price"] == "12.50"
    raw = list(csv.reader(io.StringIO(body, newline="")))
    assert raw[1][0] == "'=SKU-1" and raw[2][:2] == ["''=quoted", '\'=HYPERLINK("http://evil")']  # neutralised
    assert raw[2][3:5] == ["0.00", "0"]


def test_all_shops_and_the_filters(app, client, catalog):
    everything = parsed(text(client.get("/dashboard/products.csv")))
    assert [row["name"] for row in everything] == ["Tasse «café» 咖啡", '=HYPERLINK("http://evil")', "Plain"]
    inactive = parsed(text(client.get("/dashboard/products.csv?status=inactive")))
    assert inactive == [row for row in database_rows(app, catalog["paths"]) if row["name"] == "-5% sale"]
    assert inactive[0]["description"] == "@everyone\tTabbed"
    by_sku = parsed(text(client.get(f"/dashboard/shops/{catalog['second'].id}/products.csv?q=p-1")))
    assert [row["name"] for row in by_sku] == ["Plain"]
    assert parsed(text(client.get(f"/dashboard/shops/{catalog['shop'].id}/products.csv?q=plain"))) == []


def test_another_owners_shop_is_404(client, catalog, make_shop):
    theirs = make_shop(name="Theirs")
    assert client.get(f"/dashboard/shops/{theirs.id}/products.csv").status_code == 404
    assert "Not mine" not in text(client.get("/dashboard/products.csv"))


def test_the_table_links_its_export_with_its_filters(client, catalog):
    shop = catalog["shop"]
    table = text(client.get(f"/dashboard/shops/{shop.id}/products?q=sale&status=inactive", headers=HTMX))
    assert f'href="/dashboard/shops/{shop.id}/products.csv?status=inactive&amp;q=sale" download>Export CSV</a>' in table
    assert 'href="/dashboard/products.csv" download' in text(client.get("/dashboard/"))


def test_batches_follow_the_ids(app, owner, catalog, monkeypatch, queries):
    """Keyset batches: at two rows a batch, three products take two reads, the second after the first's last id."""
    monkeypatch.setattr(export, "BATCH", 2)
    with app.app_context():
        queries.clear()
        body = "".join(export.export_products_csv(db.session.merge(owner)))
    assert [row["name"] for row in parsed(body)] == ["Tasse «café» 咖啡", '=HYPERLINK("http://evil")', "Plain"]
    reads = [q for q in queries if "products.id >" in q.sql]
    assert len(reads) == 2 and "products.description" in reads[0].sql and "product_images" not in reads[0].sql


def test_the_command_writes_a_file_and_stdout(app, runner, catalog, tmp_path):
    shop = catalog["shop"]
    out = tmp_path / "products.csv"
    result = runner.invoke(args=["export-products", "--shop", str(shop.id), "--output", str(out)])
    assert result.exit_code == 0, result.output
    expected = [row for row in database_rows(app, catalog["paths"]) if row["is_active"] == "true"][:2]
    assert parsed(out.read_bytes().decode("utf-8")) == expected
    result = runner.invoke(args=["export-products", "--owner", "OWNER@example.com", "--status", "inactive"])
    assert result.exit_code == 0 and [r["name"] for r in parsed(result.output)] == ["-5% sale"]


def test_the_command_refuses_what_is_not_the_owners(runner, catalog, make_shop):
    theirs = make_shop(name="Theirs")
    result = runner.invoke(args=["export-products", "--shop", str(theirs.id), "--owner", "owner@example.com"])
    assert result.exit_code == 1 and "belongs to someone else" in result.output
    assert runner.invoke(args=["export-products"]).exit_code == 2
    assert "No such shop" in runner.invoke(args=["export-products", "--shop", "999999"]).output
    assert "No account" in runner.invoke(args=["export-products", "--owner", "nobody@example.com"]).output
