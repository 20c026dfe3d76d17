"""Categories an owner created: add (under an optional parent of their own), rename or move, delete when unused."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp.auth.sessions import require_login
from shopapp.categories import services
from shopapp.categories.forms import CategoryForm
from shopapp.core.forms import attempt, page_write, refused_status, submit
from shopapp.core.htmx import render
from shopapp.core.routing import ID, requested_page

bp = Blueprint("categories_manage", __name__, url_prefix="/dashboard/categories")
require_login(bp)


PER_PAGE = 50


def _index_page(form: CategoryForm) -> ResponseReturnValue:
    page = services.list_categories(owner_id=current_user.id, page=requested_page(PER_PAGE), per_page=PER_PAGE)
    return render(
        "categories/manage/index.html",
        "categories/manage/_list.html",
        http_status=refused_status(),
        page=page,
        form=form,
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    return _index_page(CategoryForm(owner_id=current_user.id))


@bp.post("/")
@page_write
def create() -> ResponseReturnValue:
    form = CategoryForm(owner_id=current_user.id)
    if form.validate_on_submit():
        done = submit(form, lambda: services.create_category(current_user, form.changes()))
        if done.ok:
            flash(f"Category “{done.value.name}” created.", "success")
            return redirect(url_for("categories_manage.index"))
    return _index_page(form)


@bp.route(f"/<{ID}:category_id>/edit", methods=["GET", "POST"])
@page_write
def edit(category_id: int) -> ResponseReturnValue:
    category = services.get_owned_category(current_user, category_id)
    form = CategoryForm(obj=category, owner_id=current_user.id)
    if (
        form.validate_on_submit()
        and submit(form, lambda: services.update_category(current_user, category.id, form.changes())).ok
    ):
        flash(f"Category “{form.name.data}” saved.", "success")
        return redirect(url_for("categories_manage.index"))
    return render_template("categories/manage/form.html", form=form, category=category), refused_status()


@bp.post(f"/<{ID}:category_id>/delete")
@page_write
def delete(category_id: int) -> ResponseReturnValue:
    """Delete, or say why not: the service refuses while products or subcategories use it."""
    category = services.get_owned_category(current_user, category_id)
    name = category.name
    done = attempt(lambda: services.delete_category(current_user, category.id))
    if done.error is not None:
        flash(f"“{name}” was not deleted. {done.error.message}", "error")
    else:
        flash(f"Category “{name}” deleted.", "success")
    return redirect(url_for("categories_manage.index"))
