"""The owner's dashboard for shops: create, edit, delete with undo, restore."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp.auth.sessions import require_login
from shopapp.core.forms import page_write, refused_status, submit
from shopapp.core.messages import flash_undo
from shopapp.core.routing import ID
from shopapp.orders import services as orders
from shopapp.products.services import product_counts
from shopapp.shops import services
from shopapp.shops.forms import ShopForm

bp = Blueprint("shops_manage", __name__, url_prefix="/dashboard")
require_login(bp)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The owner's shops, each card with its products and orders counted: one grouped query for each."""
    shops = services.list_own_shops(current_user)
    ids = [shop.id for shop in shops]
    return render_template(
        "shops/manage/index.html",
        shops=shops,
        product_counts=product_counts(ids),
        order_counts=orders.status_counts_by_shop(ids),
    )


@bp.get("/shops/deleted")
def deleted() -> ResponseReturnValue:
    return render_template("shops/manage/deleted.html", shops=services.list_own_shops(current_user, deleted=True))


@bp.route("/shops/new", methods=["GET", "POST"])
@page_write
def create() -> ResponseReturnValue:
    form = ShopForm()
    if form.validate_on_submit():
        done = submit(form, lambda: services.create_shop(current_user, form.changes()))
        if done.ok:
            flash(f"Shop “{done.value.name}” created. Add its first product.", "success")
            return redirect(url_for("products_manage.index", shop_id=done.value.id))
    return render_template("shops/manage/form.html", form=form, shop=None), refused_status()


@bp.route(f"/shops/<{ID}:shop_id>/edit", methods=["GET", "POST"])
@page_write
def edit(shop_id: int) -> ResponseReturnValue:
    shop = services.get_owned_shop(current_user, shop_id)
    form = ShopForm(obj=shop)
    if (
        form.validate_on_submit()
        and submit(form, lambda: services.update_shop(current_user, shop.id, form.changes())).ok
    ):
        flash(f"Shop “{shop.name}” saved.", "success")
        return redirect(url_for("shops_manage.index"))
    return render_template("shops/manage/form.html", form=form, shop=shop), refused_status()


@bp.post(f"/shops/<{ID}:shop_id>/delete")
@page_write
def delete(shop_id: int) -> ResponseReturnValue:
    shop = services.delete_shop(current_user, shop_id)
    flash_undo(f"Shop “{shop.name}” deleted.", url_for("shops_manage.restore", shop_id=shop.id))
    return redirect(url_for("shops_manage.index"))


@bp.post(f"/shops/<{ID}:shop_id>/restore")
@page_write
def restore(shop_id: int) -> ResponseReturnValue:
    shop = services.restore_shop(current_user, shop_id)
    flash(f"Shop “{shop.name}” restored.", "success")
    return redirect(url_for("shops_manage.index"))
