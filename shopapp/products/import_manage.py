"""The owner's CSV import of a shop's products: upload, the dry run's report, apply or cancel, then undo.

The uploaded file is kept in the database with the import (products/imports.py), never in a process, so each
step may be served by another app process. Imports are reached through ``get_owned_import`` (another owner's
ids are 404) and shops through ``get_owned_shop``.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp.auth.sessions import require_login
from shopapp.core.forms import attempt, page_write, refused_status, show_refusal
from shopapp.core.messages import flash_undo
from shopapp.core.routing import ID
from shopapp.core.uploads import accepts_file
from shopapp.products import imports
from shopapp.products.forms import ImportForm
from shopapp.products.import_models import ProductImport
from shopapp.shops.services import get_owned_shop

bp = Blueprint("product_imports", __name__, url_prefix="/dashboard")
require_login(bp)

ONE = f"/imports/<{ID}:import_id>"


def _table(batch: ProductImport) -> ResponseReturnValue:
    return redirect(url_for("products_manage.index", shop_id=batch.shop_id))


def _report_page(batch: ProductImport) -> ResponseReturnValue:
    return redirect(url_for("product_imports.report", import_id=batch.id))


@bp.route(f"/shops/<{ID}:shop_id>/products/import", methods=["GET", "POST"])
@accepts_file(imports.MAX_BYTES)
@page_write
def upload(shop_id: int) -> ResponseReturnValue:
    """Take a CSV file and dry-run it; a file refused as a whole is said on the form, and nothing is kept."""
    shop = get_owned_shop(current_user, shop_id)
    form = ImportForm()
    if form.validate_on_submit():

        def dry_run() -> ProductImport:
            batch = imports.start_import(current_user, shop.id, imports.read_limited(form.file.data.stream))
            imports.dry_run(current_user, batch.id)
            return batch

        done = attempt(dry_run)
        if done.ok:
            return _report_page(done.value)
        show_refusal(form, done.error)
    return render_template(
        "products/manage/import.html", form=form, shop=shop, max_rows=imports.MAX_ROWS
    ), refused_status()


@bp.get(ONE)
def report(import_id: int) -> ResponseReturnValue:
    """The last dry run of the import (or what it did), with Apply and Cancel while it waits."""
    batch = imports.get_owned_import(current_user, import_id)
    return render_template(
        "products/manage/import_report.html", batch=batch, report=imports.stored_report(batch), shop=batch.shop
    )


@bp.post(ONE + "/apply")
@page_write
def apply(import_id: int) -> ResponseReturnValue:
    """Apply, then the table with an Undo; refused, the report says why (a changed plan: the new dry run)."""
    batch = imports.get_owned_import(current_user, import_id)
    done = attempt(lambda: imports.apply(current_user, batch.id))
    if done.ok:
        undo_url = url_for("product_imports.undo", import_id=batch.id)
        flash_undo(f"Import applied: {done.value.summary}.", undo_url, "Undo import")
        return _table(batch)
    flash(done.error.message, "error")
    if isinstance(done.error, imports.PlanChanged):
        imports.dry_run(current_user, batch.id)  # kept: the report shows it, applying again does what it says
    return _report_page(batch)


@bp.post(ONE + "/cancel")
@page_write
def cancel(import_id: int) -> ResponseReturnValue:
    batch = imports.get_owned_import(current_user, import_id)
    shop_id = batch.shop_id
    done = attempt(lambda: imports.cancel(current_user, batch.id))
    if not done.ok:
        flash(done.error.message, "error")
        return _report_page(batch)
    flash("Import cancelled; nothing was changed.", "success")
    return redirect(url_for("products_manage.index", shop_id=shop_id))


@bp.post(ONE + "/undo")
@page_write
def undo(import_id: int) -> ResponseReturnValue:
    batch = imports.get_owned_import(current_user, import_id)
    done = attempt(lambda: imports.undo(current_user, batch.id))
    if done.ok:
        flash(
            f"Import undone: {batch.updated} products back as they were, {batch.created} created ones deleted.",
            "success",
        )
    else:
        flash(f"The import cannot be undone: {done.error.message}", "error")
    return _table(batch)


