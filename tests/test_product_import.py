"""The products CSV import (issue 17): hostile files refused whole, every invalid row at once with its line and
column, upsert by SKU in any case, unchanged rows, all-or-nothing when the products changed meanwhile, undo,
and the round trip: importing an export changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopapp.core.errors import Conflict, Invalid
from shopapp.extensions import db
from shopapp.products import export, imports, services
from shopapp.products.import_models import ProductImport
from shopapp.products.models import Product

HEADER = "sku,name,description,price,stock,category,is_active\r\n"


@pytest.fixture
def shop(make_user, make_shop):
    return make_shop(make_user(email="importer@example.com"), name="Importer")


def run(app, shop, data: bytes | str, *, write: bool = True) -> imports.Report:
    """Import ``data`` into ``shop`` as its owner, committed unless a row is invalid."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with app.app_context():
        owner = db.session.merge(shop.owner)
        batch = imports.start_import(owner, shop.id, raw)
        report = imports.dry_run(owner, batch.id)
        if write and not report.invalid:
            imports.apply(owner, batch.id)
            db.session.commit()
        else:
            db.session.rollback()
        return report


def refusal(app, shop, data: bytes | str) -> str:
    with pytest.raises(Invalid) as caught:
        run(app, shop, data)
    assert caught.value.field == "file"
    return caught.value.message


def live(app, shop) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(Product.sku, Product.name, Product.description, Product.price, Product.stock,
                   Product.category_id, Product.is_active, Product.deleted_at.is_(None))
            .where(Product.shop_id == shop.id).order_by(Product.id)
        ).all()  # fmt: skip
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (HEADER.encode() + b"A-1,Caf\xe9,,1.00,1,,true\r\n", "line 2 has bytes that are not UTF-8"),
        (HEADER + 'A-1,"Never closed,,1.00,1,,true\r\nB-2,x,,1,1,,true\r\n', "line 2: a quoted field is never closed"),
        (",".join(f"c{i}" for i in range(10_000)) + "\r\n", "Unknown columns 'c0', 'c1'"),
        ("sku,name,price\r\nA,B,1\r\n", "Missing required columns: stock"),
        ("name,name,price,stock\r\n", "Columns given twice: name"),
        (HEADER + "A," + "x" * 200_000 + ",,1,1,,true\r\n", "a field is longer than"),
    ],
    ids=["empty", "binary", "latin-1", "open-quote", "10000-columns", "missing", "twice", "long-field"],
)
def test_hostile_files_are_refused_whole(app, shop, data, words):
    assert words in refusal(app, shop, data)
    assert live(app, shop) == []


def test_too_many_rows_are_refused_before_any_row_is_checked(app, shop, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 50)
    checked = []
    monkeypatch.setattr(imports, "_values", lambda *args: checked.append(args))
    data = HEADER + "".join(f",Product {i},,1.00,1,,true\r\n" for i in range(10_000))
    assert "The file has more than 50 rows; split it." in refusal(app, shop, data)
    assert checked == [] and live(app, shop) == []
    with pytest.raises(Invalid, match="larger than 20 MB"):
        imports.read_limited(io.BytesIO(b"x" * (imports.MAX_BYTES + 1)))


def test_every_invalid_row_is_reported_at_once_and_nothing_written(app, shop):
    data = HEADER + (
        "ok-1,Fine,,1.00,1,,true\r\n"
        "bad sku,,,abc,-1,Nowhere,maybe\r\n"
        "\r\n"
        'ok-2,"Two\nlines",,1.001,1000001,,true\r\n'
        "ok-1,Again,,1,1,,true\r\n"
        "short,row\r\n"
    )
    report = run(app, shop, data)
    assert (report.created, report.invalid) == (1, 4)
    assert [str(p) for p in report.problems] == [
        f"line 3, column sku: {services.validation.SKU_RULE}",
        "line 3, column name: must not be empty",
        "line 3, column price: must be a number such as 19.99",
        "line 3, column stock: must be at least 0",
        "line 3, column category: no category has this path (create it first)",
        "line 3, column is_active: must be true or false",
        "line 5, column price: must have at most 2 decimal places",
        "line 5, column stock: must be at most 1000000",
        "line 7, column sku: this SKU is on line 2 too",
        "line 8: has 2 fields; the header has 7",
    ]
    assert live(app, shop) == []


def test_upsert_by_sku_in_any_case_unchanged_and_semicolons(app, shop, make_product, make_category):
    mugs = make_category(shop.owner, name="Mugs")
    make_product(shop, name="Mug", sku="MUG-1", price=Decimal("5.00"), stock=3)
    make_product(shop, name="Cup", sku="CUP-1", price=Decimal("2.50"), stock=1, description="Small")
    data = "\ufeffname;SKU;price;stock;category\r\nBig mug;mug-1;6.00;3; mugs \r\nCup;cup-1;2.5;1;\r\nNew;;1;0;\r\n"
    report = run(app, shop, data.encode("utf-8"))
    assert (report.created, report.updated, report.unchanged, report.invalid) == (1, 1, 1, 0)
    assert report.summary == "created 1, updated 1, unchanged 1, invalid 0"
    assert live(app, shop) == [
        ("MUG-1", "Big mug", "", Decimal("6.00"), 3, mugs.id, True, True),
        ("CUP-1", "Cup", "Small", Decimal("2.50"), 1, None, True, True),
        (None, "New", "", Decimal("1.00"), 0, None, True, True),
    ]


def test_a_name_the_shop_would_have_twice_is_refused_on_its_row(app, shop, make_product):
    make_product(shop, name="Taken", sku="T-1")
    report = run(app, shop, HEADER + ",taken,,1,1,,true\r\nT-1,Renamed,,1,1,,true\r\n,Renamed,,1,1,,true\r\n")
    assert [str(p) for p in report.problems] == [
        f"line 2, column name: {services.NAME_TAKEN}",
        f"line 3, column name: {services.NAME_TAKEN}",
        f"line 4, column name: {services.NAME_TAKEN}",
    ]


def test_apply_refuses_when_the_products_changed_since_the_dry_run(app, shop, make_product):
    product = make_product(shop, name="Mug", sku="MUG-1", price=Decimal("5.00"), stock=3)
    with app.app_context():
        owner = db.session.merge(shop.owner)
        batch = imports.start_import(owner, shop.id, (HEADER + "MUG-1,Mug,,7.00,3,,true\r\n").encode())
        assert imports.dry_run(owner, batch.id).updated == 1
        db.session.commit()
        services.update_product(owner, product.id, {"price": Decimal("7.00")})  # meanwhile: the row is now equal
        db.session.commit()
        with pytest.raises(imports.PlanChanged) as caught:
            imports.apply(owner, batch.id)
        assert (caught.value.report.updated, caught.value.report.unchanged) == (0, 1)
        db.session.rollback()
        assert imports.dry_run(owner, batch.id).unchanged == 1  # seen by the owner: applying now does that
        assert imports.apply(owner, batch.id).unchanged == 1


def test_apply_refuses_a_product_written_while_it_runs(app, shop, make_product, monkeypatch):
    product = make_product(shop, name="Mug", sku="MUG-1")
    with app.app_context():
        owner = db.session.merge(shop.owner)
        batch = imports.start_import(owner, shop.id, (HEADER + ",New,,1,1,,true\r\nMUG-1,Mugs,,1,1,,true\r\n").encode())
        imports.dry_run(owner, batch.id)
        db.session.commit()
        planned = imports._plan

        def plan_then_change(*args):  # another writer between the plan and its UPDATE
            plan = planned(*args)
            db.session.execute(
                Product.__table__.update().where(Product.id == product.id).values(version=Product.version + 1)
            )
            return plan

        monkeypatch.setattr(imports, "_plan", plan_then_change)
        with pytest.raises(Conflict, match="changed while the import was written"):
            imports.apply(owner, batch.id)
        db.session.rollback()
    assert [row[1] for row in live(app, shop)] == ["Mug"]


def test_undo_restores_the_previous_values_and_deletes_the_created(
    app, shop, make_product, make_category, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 1)  # every step batch by batch
    mugs = make_category(shop.owner, name="Mugs")
    product = make_product(shop, name="Mug", sku="MUG-1", price=Decimal("5.00"), stock=3, category_id=mugs.id,
                           description="Old")  # fmt: skip
    make_product(shop, name="Cup", sku="CUP-1", price=Decimal("2.00"))
    before = live(app, shop)
    rows = "MUG-1,Big mug,New,6.00,9,,false\r\n,Created,,1,1,,true\r\ncup-1,Cup,,2.5,5,,true\r\n"
    report = run(app, shop, HEADER + rows)
    assert report.summary == "created 1, updated 2, unchanged 0, invalid 0"
    with app.app_context():
        owner = db.session.merge(shop.owner)
        batch = db.session.scalars(select(ProductImport)).one()
        assert batch.status == "applied" and batch.file is None
        assert [row[1:5] for row in live(app, shop)] == [
            ("Big mug", "New", Decimal("6.00"), 9), ("Cup", "", Decimal("2.50"), 5), ("Created", "", Decimal("1.00"), 1)
        ]
        imports.undo(owner, batch.id)
        db.session.commit()
        assert db.session.get(Product, product.id).slug == "mug"
        with pytest.raises(Conflict, match="undone already"):
            imports.undo(owner, batch.id)
    after = live(app, shop)
    assert after[:2] == before and after[2][1] == "Created" and after[2][-1] is False  # soft-deleted


def test_undo_is_refused_after_a_change_or_too_late(app, shop, make_product):
    product = make_product(shop, name="Mug", sku="MUG-1")
    run(app, shop, HEADER + "MUG-1,Big mug,,6.00,9,,true\r\n")
    with app.app_context():
        owner = db.session.merge(shop.owner)
        batch = db.session.scalars(select(ProductImport)).one()
        services.adjust_stock(owner, product.id, 1)
        with pytest.raises(Conflict, match="1 of the imported products changed since the import"):
            imports.undo(owner, batch.id)
        db.session.rollback()
        batch = db.session.get(ProductImport, batch.id)
        batch.applied_at -= timedelta(days=imports.UNDO_DAYS, seconds=1)
        with pytest.raises(Conflict, match="more than 7 days old"):
            imports.undo(owner, batch.id)


def test_importing_an_export_changes_nothing(app, shop, make_product, make_category):
    home = make_category(shop.owner, name="Home & Kitchen")
    mugs = make_category(shop.owner, name="Mugs", parent_id=home.id)
    make_product(shop, name="Tasse «café» 咖啡", sku="=SKU-1", price=Decimal("0.10"), category_id=mugs.id,
                 description='Says "hi", then, a comma\nand a new line\r\nand more')  # fmt: skip
    make_product(shop, name='=HYPERLINK("http://evil")', sku="'=quoted", price=Decimal("1234.50"), stock=0)
    make_product(shop, name="-5% sale", sku="-5", description="@everyone\tTabbed", is_active=False,
                 category_id=home.id)  # fmt: skip
    make_product(shop, name="+plus; semi", sku="@at", price=Decimal("1000000"))
    before = live(app, shop)
    with app.app_context():
        owner = db.session.merge(shop.owner)
        active, inactive = ("".join(export.export_products_csv(owner, shop_id=shop.id, status=status))
                            for status in ("active", "inactive"))  # fmt: skip
    assert inactive.startswith(HEADER) and "'=HYPERLINK" in active
    body = active + inactive.removeprefix(HEADER)
    report = run(app, shop, body)
    assert (report.created, report.updated, report.unchanged, report.invalid) == (0, 0, 4, 0)
    assert live(app, shop) == before


def test_without_skus_a_row_updates_the_product_of_its_name(app, shop, make_product):
    """A shop that never used SKUs exports, edits a price and imports: one update, no name clashes."""
    make_product(shop, name="Desk Lamp", price=Decimal("30.00"), stock=2)
    make_product(shop, name="Floor Lamp", price=Decimal("80.00"), stock=1)
    make_product(shop, name="Tagged", sku="TAG-1", price=Decimal("5.00"), stock=1)
    with app.app_context():
        exported = "".join(export.export_products_csv(db.session.merge(shop.owner), shop_id=shop.id))
    edited = exported.replace("Desk Lamp,,30.00", "Desk Lamp,,32.50")
    assert edited != exported
    # "Tagged" has a SKU: a row without one that names it is a new product, and the name would be there twice.
    report = run(app, shop, edited + ",desk lamp 2,,1,1,,true\r\n,TAGGED,,1,1,,true\r\n")
    assert [str(p) for p in report.problems] == [f"line {n}, column name: {services.NAME_TAKEN}" for n in (4, 6)]
    assert (report.created, report.updated, report.unchanged, report.invalid) == (1, 1, 1, 2)
    report = run(app, shop, edited + ",desk lamp 2,,1,1,,true\r\n")
    assert (report.created, report.updated, report.unchanged, report.invalid) == (1, 1, 2, 0)
    assert [(name, price) for _, name, _, price, *_ in live(app, shop)] == [
        ("Desk Lamp", Decimal("32.50")), ("Floor Lamp", Decimal("80.00")), ("Tagged", Decimal("5.00")),
        ("desk lamp 2", Decimal("1.00")),
    ]


def test_the_command_dry_runs_applies_and_refuses(app, runner, shop, make_product, tmp_path):
    make_product(shop, name="Mug", sku="MUG-1", price=Decimal("5.00"), stock=3)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(HEADER + "mug-1,Mug,,6.00,3,,true\r\n,New,,1,1,,true\r\n", encoding="utf-8")
    bad.write_text(HEADER + "mug-1,Mug,,6.00,3,,true\r\n,,,x,1,,true\r\n", encoding="utf-8")
    before = live(app, shop)
    result = runner.invoke(args=["import-products", str(good), "--shop", str(shop.id), "--dry-run"])
    assert (result.exit_code, result.output) == (0, "created 1, updated 1, unchanged 0, invalid 0\n")
    assert live(app, shop) == before
    result = runner.invoke(args=["import-products", str(bad), "--shop", str(shop.id)])
    assert result.exit_code == 1
    assert result.output == (
        "created 0, updated 1, unchanged 0, invalid 1\n"
        "line 3, column name: must not be empty\nline 3, column price: must be a number such as 19.99\n"
    )
    assert live(app, shop) == before
    result = runner.invoke(args=["import-products", str(good), "--shop", str(shop.id)])
    assert result.exit_code == 0 and [row[1:4:2] for row in live(app, shop)] == [
        ("Mug", Decimal("6.00")),
        ("New", Decimal("1.00")),
    ]
    good.write_bytes(b"\x00\x01")
    result = runner.invoke(args=["import-products", str(good), "--shop", str(shop.id)])
    assert result.exit_code == 1 and "Error: This is not a CSV file (it holds binary data)." in result.output
    assert "No such shop" in runner.invoke(args=["import-products", str(good), "--shop", "99999"]).output
