"""The owner's products: a table per shop with inline edits, full forms, delete with undo, restore.

Every product is fetched through ``get_owned_product``/``get_owned_shop`` before anything else,
so another owner's ids end on the 404 page whatever URL is typed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import NotFound

from shopapp.auth.sessions import require_login
from shopapp.core.csv_cells import csv_download
from shopapp.core.errors import DomainError, NotDeleted, PreconditionFailed, Refused
from shopapp.core.forms import attempt, page_write, refused_status, show_refusal, submit
from shopapp.core.htmx import render, wants_fragment
from shopapp.core.messages import flash_undo
from shopapp.core.routing import ID, requested_page
from shopapp.products import bulk, export, services
from shopapp.products.forms import BULK_ACTIONS, BulkForm, ProductEditForm, ProductForm, QuickEditForm, StockForm
from shopapp.products.models import LOW_STOCK, Product
from shopapp.shops.models import Shop
from shopapp.shops.services import get_owned_shop

bp = Blueprint("products_manage", __name__, url_prefix="/dashboard")
require_login(bp)

PER_PAGE = 25
STATUS_LABELS = {"active": "Active", "inactive": "Inactive", "deleted": "Deleted"}
# The table's sortable columns (``services.OWNER_SORTS``), by heading.
SORT_COLUMNS = {"name": "Name", "price": "Price", "stock": "Stock", "updated": "Updated"}


def _table_url(product: Product, status: str | None = None) -> str:
    return url_for("products_manage.index", shop_id=product.shop_id, status=status)


def _filters() -> tuple[str, str]:
    """The table's filters as asked: the status (an unknown one reads as active) and the search."""
    status = request.args.get("status", "active")
    return (status if status in STATUS_LABELS else "active"), request.args.get("q", "").strip()


@bp.get(f"/shops/<{ID}:shop_id>/products")
def index(shop_id: int) -> ResponseReturnValue:
    shop = get_owned_shop(current_user, shop_id)
    return _table(shop, BulkForm(formdata=None))


def _sort() -> str:
    sort = request.args.get("sort", "name")
    return sort if sort.removeprefix("-") in services.OWNER_SORTS else "name"


def _table(shop: Shop, bulk_form: BulkForm, *, selected: frozenset[int] = frozenset()) -> ResponseReturnValue:
    """The products table as the query string filters, sorts and pages it, with its bulk form (``selected``:
    the rows ticked when the form was refused); a refused bulk form answers 422."""
    status, q = _filters()
    sort = _sort()
    page = services.list_user_products(
        current_user,
        status=status,
        shop_id=shop.id,
        q=q or None,
        sort=sort,
        page=requested_page(PER_PAGE),
        per_page=PER_PAGE,
    )
    return render(
        "products/manage/index.html",
        "products/manage/_table.html",
        http_status=422 if bulk_form.messages() else 200,
        shop=shop,
        page=page,
        q=q,
        status=status,
        statuses=STATUS_LABELS,
        sort=sort,
        columns=SORT_COLUMNS,
        low_stock=LOW_STOCK,
        bulk_form=bulk_form,
        selected=selected,
        max_ids=bulk.MAX_IDS,
    )


def _listed_args() -> dict[str, Any]:
    """The table's query string (filter, sort, page), kept across a bulk edit."""
    return {key: value for key, value in request.args.items() if key in ("status", "q", "sort", "page")}


@bp.post(f"/shops/<{ID}:shop_id>/products/bulk")
@page_write
def bulk_edit(shop_id: int) -> ResponseReturnValue:
    """One action on the ticked rows, the page's rows or all the filter matches (at most ``bulk.MAX_IDS``);
    refused, nothing is written and the table says why. Without htmx a redirect to the table, as it was."""
    shop = get_owned_shop(current_user, shop_id)
    form = BulkForm()
    ticked = _sent_ids("product_ids")
    if form.validate_on_submit():
        ids = _scope_ids(form, shop, ticked)
        if ids is not None:
            action, value = form.service_call()
            done = attempt(lambda: bulk.bulk_edit(current_user, shop.id, action, ids, value))
            if done.ok:
                _say_done(form, done.value, len(ids))
                if wants_fragment():
                    return _table(shop, BulkForm(formdata=None))
                return redirect(url_for("products_manage.index", shop_id=shop.id, **_listed_args()))
            _show_bulk_refusal(form, done.error)
    return _table(shop, form, selected=frozenset(i for i in ticked if isinstance(i, int)))


def _sent_ids(name: str) -> list[Any]:
    """The ids sent under ``name``, as numbers where they are (the service names what is not)."""
    return [int(v) if v.isascii() and v.isdigit() and len(v) < 12 else v for v in request.form.getlist(name)]


def _scope_ids(form: BulkForm, shop: Shop, ticked: list[Any]) -> list[Any] | None:
    """The ids the form's scope names; None, with the form's error, when there are none or too many."""
    if form.scope.data == "selected":
        ids = ticked
    elif form.scope.data == "page":
        ids = _sent_ids("page_ids")
    else:
        status, q = _filters()
        found = bulk.matching_ids(current_user, shop.id, status=status, q=q or None)
        if len(found) > bulk.MAX_IDS:
            form.form_errors.append(
                f"More than {bulk.MAX_IDS} products match this filter; a bulk edit takes at most {bulk.MAX_IDS}."
                " Narrow the filter (a search or a status) and apply it again."
            )
            return None
        ids = list(found)
    if not ids:
        form.form_errors.append("Select at least one product (tick its row), or apply to all on this page.")
        return None
    return ids


def _show_bulk_refusal(form: BulkForm, error: DomainError) -> None:
    """The service's problems beside the form's fields (an amount's or a percentage's beside the value)."""
    for problem in error.problems if isinstance(error, Refused) else [error]:
        field = (problem.field or "").split(".")[0]
        if field == "value" and form.action.data == "set_category":
            field = "category_id"
        target = form._fields.get(field)
        if target is not None:
            target.errors = [*target.errors, problem.message]
        else:
            form.form_errors.append(problem.message)


def _say_done(form: BulkForm, done: bulk.BulkResult, asked: int) -> None:
    """ "12 products deactivated." (and how many were already so); a delete's message offers its undo."""
    said = BULK_ACTIONS[form.action.data][1]
    text = f"{done.changed} product{'s' if done.changed != 1 else ''} {said}."
    if asked > done.changed:
        text += f" {asked - done.changed} unchanged (already so)."
    if done.action == "delete" and done.changed:
        stamp = (done.at - _EPOCH) // timedelta(microseconds=1)
        flash_undo(text, url_for("products_manage.bulk_undo", shop_id=done.products[0].shop_id, at=stamp))
    else:
        flash(text, "success")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@bp.post(f"/shops/<{ID}:shop_id>/products/bulk/undo/<at>")
@page_write
def bulk_undo(shop_id: int, at: str) -> ResponseReturnValue:
    """Undo a bulk delete: restore the products it deleted (``at``: its time, in microseconds since 1970; a
    string, as every integer in a URL is a row id) that are still deleted; all of them, or none if one would
    clash with a live product's name or SKU."""
    shop = get_owned_shop(current_user, shop_id)
    if not (at.isascii() and at.isdigit() and len(at) <= 18):
        raise NotFound()
    ids = bulk.deleted_together(current_user, shop.id, _EPOCH + timedelta(microseconds=int(at)))
    done = attempt(lambda: bulk.bulk_edit(current_user, shop.id, "restore", ids)) if ids else None
    if done is None:
        flash("Nothing to undo: those products are not deleted any more.", "error")
    elif done.error is not None:
        flash(f"The products cannot be restored: {done.error.message}", "error")
        return redirect(url_for("products_manage.index", shop_id=shop.id, status="deleted"))
    else:
        flash(f"{done.value.changed} product{'s' if done.value.changed != 1 else ''} restored.", "success")
    return redirect(url_for("products_manage.index", shop_id=shop.id))


@bp.get(f"/shops/<{ID}:shop_id>/products.csv")
def export_csv(shop_id: int) -> ResponseReturnValue:
    """The shop's products as CSV, the table's filters applied, streamed (products/export.py)."""
    shop = get_owned_shop(current_user, shop_id)
    status, q = _filters()
    chunks = export.export_products_csv(current_user, shop_id=shop.id, status=status, q=q or None)
    return csv_download(chunks, f"products-shop-{shop.id}-{status}.csv")


@bp.get("/products.csv")
def export_all_csv() -> ResponseReturnValue:
    """The products of all the owner's shops as CSV, filtered as a shop's table is."""
    status, q = _filters()
    return csv_download(export.export_products_csv(current_user, status=status, q=q or None), f"products-{status}.csv")


@bp.route(f"/shops/<{ID}:shop_id>/products/new", methods=["GET", "POST"])
@page_write
def create(shop_id: int) -> ResponseReturnValue:
    shop = get_owned_shop(current_user, shop_id)
    form = ProductForm()
    if form.validate_on_submit():
        done = submit(form, lambda: services.create_product(current_user, {**form.changes(), "shop_id": shop.id}))
        if done.ok:
            flash(f"Product “{done.value.name}” created.", "success")
            return redirect(_table_url(done.value))
    return render_template("products/manage/form.html", form=form, shop=shop, product=None), refused_status()


@bp.route(f"/products/<{ID}:product_id>/edit", methods=["GET", "POST"])
@page_write
def edit(product_id: int) -> ResponseReturnValue:
    product = _owned(product_id)
    form = ProductEditForm(obj=product, owner=current_user)
    if _save(form, product):
        flash(f"Product “{product.name}” saved.", "success")
        return redirect(_table_url(product))
    return _edit_page(form.current or product, form, StockForm(formdata=None), stale=form.current is not None)


def _edit_page(
    product: Product, form: ProductEditForm, stock_form: StockForm, *, stale: bool = False
) -> ResponseReturnValue:
    return render_template(
        "products/manage/form.html", form=form, stock_form=stock_form, shop=product.shop, product=product, stale=stale
    ), refused_status()


@bp.post(f"/products/<{ID}:product_id>/stock")
@page_write
def stock(product_id: int) -> ResponseReturnValue:
    """Change the stock by a delta (the API's stock operation); refused, the edit page says why."""
    product = _owned(product_id)
    before, form = product.stock, StockForm()
    if (
        form.validate_on_submit()
        and submit(form, lambda: services.adjust_stock(current_user, product.id, form.sent_delta())).ok
    ):
        flash(f"Stock of “{product.name}”: {before} → {product.stock}.", "success")
        return redirect(url_for("products_manage.edit", product_id=product.id))
    product = services.get_owned_product(current_user, product.id)
    return _edit_page(product, ProductEditForm(formdata=None, obj=product, owner=current_user), form)


@bp.get(f"/products/<{ID}:product_id>/row")
def row(product_id: int) -> ResponseReturnValue:
    """The table row as shown, for "Cancel" in an inline edit."""
    product = services.get_owned_product(current_user, product_id)
    if not wants_fragment():
        return redirect(_table_url(product))
    return render_template("products/manage/_row.html", product=product)


@bp.route(f"/products/<{ID}:product_id>/quick", methods=["GET", "POST"])
@page_write
def quick_edit(product_id: int) -> ResponseReturnValue:
    """Price, stock and active edited in the table row; without htmx the full form does the job."""
    product = _owned(product_id)
    if not wants_fragment():
        return redirect(url_for("products_manage.edit", product_id=product.id))
    form = QuickEditForm(obj=product, prefix=f"p{product.id}")
    if _save(form, product):
        return render_template("products/manage/_row.html", product=product, saved=True)
    shown = form.current or product
    return render_template(
        "products/manage/_row_form.html", form=form, product=shown, stale=form.current is not None
    ), refused_status()


def _owned(product_id: int, *, deleted: bool | None = False) -> Product:
    """The owner's product, locked at once by a POST: the service that writes it then finds the lock held,
    and the product is read once."""
    return services.get_owned_product(current_user, product_id, deleted=deleted, lock=request.method == "POST")


def _save(form: QuickEditForm, product: Product) -> bool:
    """Save a sent, valid ``form`` over ``product``; on a refusal roll back and show why.

    A stale edit (someone saved after the owner opened the form) puts the product as it
    is now in ``form.current``. The owner's typed values stay in the form and its version
    moves to the current one, so saving again is a deliberate overwrite of what they have seen.
    """
    if not form.validate_on_submit():
        return False
    done = attempt(
        lambda: services.update_product(
            current_user, product.id, form.changes(), expected_version=form.expected_version()
        )
    )
    if isinstance(done.error, PreconditionFailed):
        form.current = services.get_owned_product(current_user, product.id)
        form.version.data = str(form.current.version)
    elif done.error is not None:
        show_refusal(form, done.error)
    return done.ok


@bp.post(f"/products/<{ID}:product_id>/delete")
@page_write
def delete(product_id: int) -> ResponseReturnValue:
    product = services.delete_product(current_user, product_id)
    flash_undo(f"Product “{product.name}” deleted.", url_for("products_manage.restore", product_id=product.id))
    return redirect(_table_url(product))


@bp.post(f"/products/<{ID}:product_id>/restore")
@page_write
def restore(product_id: int) -> ResponseReturnValue:
    """Restore, or say why not: a live product took its name (back to the deleted ones), or it is not deleted
    (the 409 page, in the service's words)."""
    product = _owned(product_id, deleted=None)
    done = attempt(lambda: services.restore_product(current_user, product.id))
    if isinstance(done.error, NotDeleted):
        raise done.error
    if done.error is not None:
        flash(f"“{product.name}” cannot be restored: {done.error.message}", "error")
        return redirect(_table_url(product, "deleted"))
    flash(f"Product “{product.name}” restored.", "success")
    return redirect(_table_url(product))
