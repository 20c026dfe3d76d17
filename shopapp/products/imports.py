"""Products from a CSV file (issue 17): a dry run that says what would happen, an all-or-nothing apply, and an
undo of the whole import; one service for the CLI (``flask import-products``) and the dashboard.

The file is the export's format (products/export.py): a header row naming the columns in any order, UTF-8 with
or without a BOM, comma- or semicolon-separated (told by the header line). ``name``, ``price`` and ``stock`` are
required columns; ``sku``, ``description``, ``category`` and ``is_active`` may be left out (an update then keeps
the product's value, a new product gets the usual default). Text cells go through ``unescape_cell``, so
importing an export changes nothing.

- A row whose SKU matches a live product of the shop (in any case) updates it, the stored SKU kept as it is.
  A row without a SKU updates the live product of that name (in any case) that has no SKU either, so a shop
  that never used SKUs can export, edit and import its file; otherwise, as a row with a new SKU, it creates a
  product. A row equal to the product is "unchanged".
- Every row is checked by the products service's own rules (``services.FIELDS``), and every problem of every
  row is reported at once as (line, column, message). A name or a SKU the shop would then have twice is a
  problem of the row.
- A category is given by its path (``Home & Kitchen > Mugs``, any case) and must exist: an unknown path is
  refused on its row, never created.
- A file that cannot be read as such a CSV (binary, not UTF-8, a quote never closed, too many bytes or rows,
  unknown or missing columns) is refused as a whole: ``Invalid`` on the field ``file``, nothing written.

The import's state lives in the database (import_models.py): the uploaded file, the dry run's counts, its
problems and a digest of its plan. ``apply`` plans again inside its transaction and refuses (``PlanChanged``,
carrying the new report) if the products changed meanwhile in a way that changes the plan; its writes are
batched statements and each UPDATE checks the version it planned from. ``undo`` puts back the previous values
and soft-deletes the products the import created, in one step, for ``UNDO_DAYS`` and only while none of them
changed since.
``dry_run`` and ``apply`` report progress to ``on_progress(done, total)``, for a progress bar or a job.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.categories.services import PATH_SEPARATOR, category_paths
from shopapp.core.csv_cells import unescape_cell
from shopapp.core.db import integrity_as, utcnow
from shopapp.core.errors import Conflict, Invalid, NotFound, Problems
from shopapp.core.text import slugify
from shopapp.extensions import db
from shopapp.products import services
from shopapp.products.export import COLUMNS
from shopapp.products.import_models import ProductImport, ProductImportChange
from shopapp.products.models import Product
from shopapp.shops.services import get_owned_shop

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
UNDO_DAYS = 7
BATCH = 1000  # rows per statement, and between two progress reports
REQUIRED = ("name", "price", "stock")
TEXT_COLUMNS = ("sku", "name", "description", "category")
FILE = "file"  # the field a file-level refusal names
NOT_FOUND = "No such import."
NOT_APPLIED = "Only an applied import can be undone."
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_BOOLEANS = {"true": True, "false": False}
# The product columns an import writes, and an undo puts back.
_WRITTEN = ("name", "slug", "description", "price", "stock", "category_id", "is_active")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None  # None: the row as a whole (its number of fields)
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Report:
    """What applying the file does, or did: counts of rows, and every problem of the invalid ones."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, invalid {self.invalid}"


class PlanChanged(Conflict):
    """The products changed between the dry run and the apply, so the apply would not do what the owner saw;
    ``report`` is the new dry run (also stored on the import), to be shown and applied again."""

    def __init__(self, report: Report) -> None:
        super().__init__(
            "The shop's products changed since the dry run, so the import would now do something else; "
            "nothing was written. Check the new dry run below and apply again."
        )
        self.report = report


class _Match(NamedTuple):
    """A live product of the shop as matching reads it (a plain tuple: there are up to ``MAX_ROWS`` of them)."""

    id: int
    name: str
    version: int


@dataclass
class _Plan:
    report: Report
    creates: list[dict[str, Any]]  # the new products' columns
    updates: list[tuple[int, int, dict[str, Any]]]  # (the product's id, its version as planned, new columns)
    digest: str


# --- reading the file ---------------------------------------------------------------------------------------


def read_limited(stream: IO[bytes]) -> bytes:
    """The bytes of an upload or a file, refused (without reading on) past ``MAX_BYTES``."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", FILE)
    return data


def _text(data: bytes) -> str:
    if not data.strip():
        raise Invalid("The file is empty; it needs a header row (sku, name, description, price, ...).", FILE)
    if b"\x00" in data:
        raise Invalid("This is not a CSV file (it holds binary data).", FILE)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Invalid(f"The file is not UTF-8 text: line {line} has bytes that are not UTF-8.", FILE) from exc


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each record, the header first, refused past ``MAX_ROWS`` without reading on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    count = 0
    line = 1
    try:
        for cells in reader:
            if cells and any(cell.strip() for cell in cells):
                count += 1
                if count > MAX_ROWS + 1:  # the header, then MAX_ROWS rows
                    raise Invalid(f"The file has more than {MAX_ROWS} rows; split it.", FILE)
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"The file is not valid CSV at line {line}: {_csv_reason(exc)}.", FILE) from exc


def _csv_reason(exc: csv.Error) -> str:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return "a quoted field is never closed"
    if "field larger than field limit" in reason:
        return f"a field is longer than {csv.field_size_limit()} characters"
    return reason


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise Invalid(f"Unknown columns {shown}: the columns are {', '.join(COLUMNS)}.", FILE)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise Invalid(f"Columns given twice: {', '.join(repeated)}.", FILE)
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise Invalid(f"Missing required columns: {', '.join(missing)}.", FILE)
    return names


# --- planning -----------------------------------------------------------------------------------------------


def _path_key(path: str) -> str:
    return PATH_SEPARATOR.join(part.strip() for part in path.split(">")).lower()


def _category_ids() -> dict[str, int]:
    ids = db.session.scalars(select(Category.id))
    return {_path_key(path): ident for ident, path in category_paths(ids).items()}


def _values(cells: dict[str, str], categories: dict[str, int], problems: Problems) -> dict[str, Any]:
    """A row's cells as the products service's fields, checked by its rules (``services.FIELDS``)."""
    data: dict[str, Any] = {}
    for column, cell in cells.items():
        value: Any = unescape_cell(cell) if column in TEXT_COLUMNS else cell.strip()
        if column == "sku":
            data["sku"] = value.strip() or None
        elif column == "stock":
            data["stock"] = int(value) if _WHOLE_NUMBER.fullmatch(value) else value
        elif column == "is_active":
            data["is_active"] = _BOOLEANS.get(value.lower(), value)
        elif column == "category":
            if value.strip():
                ident = categories.get(_path_key(value))
                if ident is None:
                    problems.add(Invalid("no category has this path (create it first)", "category"))
                    continue
                data["category_id"] = ident
            else:
                data["category_id"] = None
        elif column == "price" and not value:
            problems.add(Invalid("is required", "price"))
        else:
            data[column] = value
    if "stock" in data and isinstance(data["stock"], str):
        problems.add(Invalid("must be a whole number", "stock"))
        del data["stock"]
    return services.validation.clean_fields(data, services.FIELDS, problems)


def _existing(shop_id: int) -> dict[str, Any]:
    """The shop's live products by lower-cased SKU (those without one too, under their id): only what matching
    and names need; the other columns of the matched ones are read a batch at a time (``_current``)."""
    stmt = select(Product.id, Product.sku, Product.name, Product.version).where(
        Product.shop_id == shop_id, Product.deleted_at.is_(None)
    )
    rows = db.session.execute(stmt.execution_options(yield_per=BATCH))  # never all the driver's rows at once
    return {(row.sku.lower() if row.sku else f"#{row.id}"): _Match(row.id, row.name, row.version) for row in rows}


def _current(ids: list[int], *, lock: bool = False) -> dict[int, Any]:
    """The written columns of these products as they are now (``lock``: until the transaction ends)."""
    stmt = select(Product.id, Product.version, *(getattr(Product, c) for c in _WRITTEN)).where(Product.id.in_(ids))
    if lock:
        stmt = stmt.with_for_update()
    return {row.id: row for row in db.session.execute(stmt)}


def _read(data: bytes) -> tuple[str, list[str], int]:
    """The file's text, columns and number of rows: a first reading that checks the header, the limits and the
    CSV itself before anything is planned (``Invalid`` on ``FILE``)."""
    text = _text(data)
    records = _rows(text)
    first = next(records, None)
    if first is None:
        raise Invalid("The file is empty; it needs a header row.", FILE)
    columns = _header(first[1])
    return text, columns, sum(1 for _ in records)


def _plan(shop_id: int, data: bytes, on_progress: Progress | None) -> _Plan:
    # The second reading plans the rows, a row at a time (the file's cells are never all held).
    text, columns, total = _read(data)
    rows = _rows(text)
    next(rows)
    categories = _category_ids()
    existing = _existing(shop_id)
    unnamed = {match.name.lower(): match for key, match in existing.items() if key.startswith("#")}  # no SKU
    report = Report()
    creates: list[dict[str, Any]] = []
    updates: list[tuple[int, int, dict[str, Any]]] = []
    digest = hashlib.sha256()
    seen_skus: dict[str, int] = {}
    planned: list[tuple[int, dict[str, Any], Any]] = []
    for done, (line, cells) in enumerate(rows, 1):
        if len(cells) != len(columns):
            report.problems.append(RowProblem(line, None, f"has {len(cells)} fields; the header has {len(columns)}"))
            report.invalid += 1
            continue
        problems = Problems()
        values = _values(dict(zip(columns, cells, strict=True)), categories, problems)
        sku = values.get("sku")
        target = existing.get(sku.lower()) if sku else unnamed.get(str(values.get("name", "")).lower())
        if sku and not problems.found:
            other = seen_skus.setdefault(sku.lower(), line)
            if other != line:
                problems.add(Invalid(f"this SKU is on line {other} too", "sku"))
        if problems.found:
            report.invalid += 1
            report.problems.extend(
                RowProblem(line, "category" if p.field == "category_id" else p.field, p.message) for p in problems.found
            )
        else:
            planned.append((line, values, target))
        if on_progress is not None and (done % BATCH == 0 or done == total):
            on_progress(done, total)
    clashes = _name_clashes(existing, planned)
    del existing, unnamed
    while planned:  # a batch at a time, each row's values let go once its product's changes are known
        chunk, planned = planned[:BATCH], planned[BATCH:]
        current = _current([target.id for _, _, target in chunk if target is not None])
        for line, values, target in chunk:
            if line in clashes:
                report.invalid += 1
                report.problems.append(RowProblem(line, "name", services.NAME_TAKEN))
            elif target is None:
                creates.append(_new_product(shop_id, values))
                report.created += 1
                digest.update(f"c{line};".encode())
            else:
                now = current[target.id]
                changes = _changes(now, values)
                if changes:
                    updates.append((now.id, now.version, changes))
                    report.updated += 1
                    digest.update(f"u{now.id}.{now.version};".encode())
                else:
                    report.unchanged += 1
                    digest.update(f"s{now.id}.{now.version};".encode())
    report.problems.sort(key=lambda p: (p.line, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
    for problem in report.problems:
        digest.update(str(problem).encode())
    return _Plan(report, creates, updates, digest.hexdigest())


def _name_clashes(existing: dict[str, Any], planned: list[tuple[int, dict[str, Any], Any]]) -> set[int]:
    """The lines whose name another live product of the shop has now, or another row gives too (in any case).
    A name a row renames away is not free for another row: the writes never pass through a clash."""
    holders = {row.name.lower(): row.id for row in existing.values()}
    counts = Counter(values["name"].lower() for _, values, _ in planned)
    return {
        line
        for line, values, target in planned
        if holders.get(name := values["name"].lower(), ident := None if target is None else target.id) != ident
        or counts[name] > 1
    }


def _new_product(shop_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """A new product's columns: ``values`` itself, completed (a copy per row would double the plan's memory)."""
    for key, default in (("description", ""), ("category_id", None), ("is_active", True)):
        values.setdefault(key, default)
    values.update(shop_id=shop_id, slug=slugify(values["name"]))
    return values


def _changes(target: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The columns ``values`` change on the product as read (the SKU only matched it: its case stays)."""
    changes = {key: value for key, value in values.items() if key != "sku" and getattr(target, key) != value}
    if "name" in changes:
        changes["slug"] = slugify(changes["name"])
    return changes


# --- the import's steps -------------------------------------------------------------------------------------


def start_import(user: User, shop_id: int, data: bytes) -> ProductImport:
    """Keep an uploaded file for the shop's owner, refused at once (nothing kept) past ``MAX_BYTES`` or when it
    cannot be read as such a CSV (``_read``: the dry run, maybe a job's, then only checks its rows)."""
    shop = get_owned_shop(user, shop_id)
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", FILE)
    _read(data)
    batch = ProductImport(shop_id=shop.id, user_id=user.id, file=data)
    db.session.add(batch)
    db.session.flush()
    return batch


def get_owned_import(user: User, import_id: int) -> ProductImport:
    batch = db.session.get(ProductImport, import_id)
    if batch is None or batch.shop.owner_id != user.id or batch.shop.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    return batch


def _uploaded(user: User, import_id: int, *, claimed: bool = False) -> ProductImport:
    """The import, waiting for its dry run or apply (``claimed``: or taken by its apply job, shopapp/jobs/)."""
    batch = get_owned_import(user, import_id)
    if batch.status == "applying" and not claimed:
        raise Conflict("This import is being applied.")
    if batch.status not in ("uploaded", "applying") or batch.file is None:
        raise Conflict(f"This import was {batch.status} already.")
    return batch


def _remember(batch: ProductImport, plan: _Plan) -> None:
    report = plan.report
    batch.created, batch.updated, batch.unchanged, batch.invalid = (
        report.created,
        report.updated,
        report.unchanged,
        report.invalid,
    )
    batch.plan_digest = plan.digest
    batch.problems = [[p.line, p.column, p.message] for p in report.problems]
    db.session.flush()


def stored_report(batch: ProductImport) -> Report:
    """The import's last dry run, as kept (no file read)."""
    problems = [RowProblem(line, column, message) for line, column, message in batch.problems]
    return Report(batch.created, batch.updated, batch.unchanged, batch.invalid, problems)


def dry_run(user: User, import_id: int, on_progress: Progress | None = None) -> Report:
    """What applying the import would do now; its counts and plan are kept on the import for ``apply``."""
    batch = _uploaded(user, import_id)
    plan = _plan(batch.shop_id, batch.file or b"", on_progress)
    _remember(batch, plan)
    return plan.report


def apply(user: User, import_id: int, on_progress: Progress | None = None) -> Report:
    """Write the import, all or nothing, if it still does what its dry run said: ``PlanChanged`` (with the new
    dry run: ``dry_run`` again keeps it) if the plan changed, ``Invalid`` while any row is invalid, and if a
    product changes while it is written, ``Conflict``. The caller commits (or rolls back on a refusal)."""
    batch = _uploaded(user, import_id, claimed=True)
    plan = _plan(batch.shop_id, batch.file or b"", None)
    if plan.digest != batch.plan_digest:
        raise PlanChanged(plan.report)
    if plan.report.invalid:
        raise Invalid(f"{plan.report.invalid} rows are invalid; fix them and upload the file again.", FILE)
    total = len(plan.creates) + len(plan.updates)
    progress = on_progress or (lambda done, total: None)
    with integrity_as(Conflict(services.NAME_TAKEN), {"uq_products_sku_shop_live": Conflict(services.SKU_TAKEN)}):
        _insert(batch, plan.creates, progress, total)
        _update(batch, plan.updates, progress, total, done=len(plan.creates))
    batch.status, batch.file, batch.applied_at = "applied", None, utcnow()
    db.session.flush()
    return plan.report


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _insert(batch: ProductImport, creates: list[dict[str, Any]], progress: Progress, total: int) -> None:
    done = 0
    for chunk in _batches(creates):
        ids = db.session.scalars(insert(Product).returning(Product.id, sort_by_parameter_order=True), chunk).all()
        db.session.execute(
            insert(ProductImportChange),
            [{"import_id": batch.id, "product_id": ident, "was_created": True, "version_after": 1} for ident in ids],
        )
        done += len(chunk)
        progress(done, total)


_UPDATE = (
    update(cast(Table, Product.__table__))
    .where(Product.id == bindparam("b_id"), Product.version == bindparam("b_version"))
    .values(
        **{column: bindparam(f"b_{column}") for column in _WRITTEN},
        version=Product.version + 1,
        updated_at=bindparam("b_now"),
    )
)


def _update(batch: ProductImport, updates: list[tuple[int, int, dict[str, Any]]], progress: Progress, total: int,
            *, done: int) -> None:  # fmt: skip
    """Each batch's products read again and locked, their previous values kept for the undo, then updated by
    one statement that checks every version planned."""
    now = utcnow()
    changed = Conflict("Some products changed while the import was written; nothing was written. Try again.")
    for chunk in _batches(updates):
        rows = _current([ident for ident, _, _ in chunk], lock=True)
        if any(rows.get(ident) is None or rows[ident].version != version for ident, version, _ in chunk):
            raise changed
        params = [
            {
                "b_id": ident,
                "b_version": version,
                "b_now": now,
                **{f"b_{column}": changes.get(column, getattr(rows[ident], column)) for column in _WRITTEN},
            }
            for ident, version, changes in chunk
        ]
        if db.session.execute(_UPDATE, params).rowcount != len(chunk):  # type: ignore[attr-defined]
            raise changed
        db.session.execute(
            insert(ProductImportChange),
            [
                {
                    "import_id": batch.id,
                    "product_id": ident,
                    "was_created": False,
                    "version_after": version + 1,
                    **{f"prev_{column}": getattr(rows[ident], column) for column in _WRITTEN},
                }
                for ident, version, _ in chunk
            ],
        )
        done += len(chunk)
        progress(done, total)


def cancel(user: User, import_id: int) -> None:
    """Forget an import that was not applied, with its file."""
    batch = _uploaded(user, import_id)
    db.session.execute(delete(ProductImport).where(ProductImport.id == batch.id))


def undo(user: User, import_id: int) -> ProductImport:
    """Put back what an applied import changed and soft-delete the products it created, in one step; refused
    after ``UNDO_DAYS``, or if any of those products changed since (each is named by count)."""
    batch = get_owned_import(user, import_id)
    if batch.status != "applied" or batch.applied_at is None:
        raise Conflict("This import was undone already." if batch.status == "undone" else NOT_APPLIED)
    if utcnow() - batch.applied_at > timedelta(days=UNDO_DAYS):
        raise Conflict(f"This import is more than {UNDO_DAYS} days old and can no longer be undone.")
    mine = ProductImportChange.import_id == batch.id
    changed = db.session.scalar(
        select(func.count())
        .select_from(ProductImportChange)
        .join(Product, Product.id == ProductImportChange.product_id)
        .where(mine, (Product.version != ProductImportChange.version_after) | Product.deleted_at.is_not(None))
    )
    if changed:
        raise Conflict(
            f"{changed} of the imported products changed since the import, so it can no longer be undone as a "
            "whole; change them back by hand."
        )
    now = utcnow()
    raced = Conflict("Some of the imported products changed while the import was being undone; try again.")
    records = select(
        ProductImportChange.product_id,
        ProductImportChange.was_created,
        ProductImportChange.version_after,
        *(getattr(ProductImportChange, f"prev_{column}") for column in _WRITTEN),
    ).where(mine)
    # A batch at a time (the statements stay short: a statement timeout bounds each), the created products first
    # (their changes were recorded first), so that a name they took is free again when the previous ones return.
    stmt = records.order_by(ProductImportChange.id).execution_options(yield_per=BATCH)
    with integrity_as(Conflict(services.NAME_TAKEN + " Rename that one, then undo again.")):
        for part in db.session.execute(stmt).partitions():
            created = [row.product_id for row in part if row.was_created]
            if created:
                result = db.session.execute(
                    update(Product)
                    .where(Product.id.in_(created), Product.deleted_at.is_(None))
                    .values(deleted_at=now, version=Product.version + 1, updated_at=now),
                    execution_options={"synchronize_session": False},
                )
                if result.rowcount != len(created):  # type: ignore[attr-defined]
                    raise raced
            params = [
                {
                    "b_id": row.product_id,
                    "b_version": row.version_after,
                    "b_now": now,
                    **{f"b_{column}": getattr(row, f"prev_{column}") for column in _WRITTEN},
                }
                for row in part
                if not row.was_created
            ]
            if params and db.session.execute(_UPDATE, params).rowcount != len(params):  # type: ignore[attr-defined]
                raise raced
    batch.status, batch.undone_at = "undone", now
    db.session.flush()
    return batch
