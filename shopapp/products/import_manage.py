"""The owner's CSV import of a shop's products: upload, the dry run's report, apply or cancel, then undo.

The uploaded file is kept in the database with the import (products/imports.py), never in a process, so each
step may be served by another app process. Imports are reached through ``get_owned_import`` (another owner's
ids are 404) and shops through ``get_owned_shop``.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp import jobs
from shopapp.auth.sessions import require_login
from shopapp.core.forms import attempt, page_write, refused_status, show_refusal
from shopapp.core.messages import flash_undo
from shopapp.core.routing import ID
from shopapp.core.uploads import accepts_file
from shopapp.extensions import db
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
        done = attempt(lambda: imports.start_import(current_user, shop.id, imports.read_limited(form.file.data.stream)))
        if done.ok:
            jobs.enqueue_import_step(done.value.id, jobs.DRY_RUN)
            return _report_page(done.value)
        show_refusal(form, done.error)
    return render_template(
        "products/manage/import.html", form=form, shop=shop, max_rows=imports.MAX_ROWS
    ), refused_status()


def _show(template: str, import_id: int) -> ResponseReturnValue:
    batch = imports.get_owned_import(current_user, import_id)
    progress = jobs.progress(batch.id) if batch.job_step else None
    report = imports.stored_report(batch)
    return render_template(template, batch=batch, report=report, shop=batch.shop, progress=progress)


@bp.get(ONE)
def report(import_id: int) -> ResponseReturnValue:
    """The last dry run of the import (or what it did), with Apply and Cancel while it waits; while a job runs
    one of its steps, its progress (``status``: that part alone, which htmx polls)."""
    return _show("products/manage/import_report.html", import_id)


@bp.get(ONE + "/status")
def status(import_id: int) -> ResponseReturnValue:
    """The import's report without the page around it, for htmx's polling while a job runs."""
    return _show("products/manage/_import_status.html", import_id)


@bp.post(ONE + "/apply")
@page_write
def apply(import_id: int) -> ResponseReturnValue:
    """Apply, then the table with an Undo; refused, the report says why (a changed plan: the new dry run)."""
    batch = imports.get_owned_import(current_user, import_id)
    if not jobs.claim_apply(batch.id):
        flash("This import is not waiting to be applied (it is being applied, or was already).", "error")
        return _report_page(batch)
    jobs.enqueue_import_step(batch.id, jobs.APPLY)
    db.session.refresh(batch)
    if batch.status == "applied":  # no queue: applied in this request
        undo_url = url_for("product_imports.undo", import_id=batch.id)
        flash_undo(f"Import applied: {imports.stored_report(batch).summary}.", undo_url, "Undo import")
        return _table(batch)
    return _report_page(batch)  # the refusal (batch.job_error), or the job's progress


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
