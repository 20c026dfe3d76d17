"""What the API can do, the owner's dashboard can do too: category descriptions, moving a product to another of
one's shops, stock changes by a delta, images moved to any position, lists past 100, and the products table's
thumbnails, stock marks, sorting and counts. Refusals change nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from shopapp.categories.models import Category
from shopapp.extensions import db
from tests.pages.conftest import csrf_token, post, text


def _named(app, model, name):  # type: ignore[no-untyped-def]
    """The id of the ``model`` row called ``name``."""
    with app.app_context():
        return db.session.scalars(select(model.id).where(model.name == name)).one()


def test_a_category_gets_a_description_from_the_dashboard(client, owner, fresh):
    created = post(client, "/dashboard/categories/", {"name": "Teapots", "description": "Cast iron and clay."})
    assert created.status_code == 302
    ident = _named(client.application, Category, "Teapots")
    assert fresh(Category, ident).description == "Cast iron and clay."
    form = text(client.get(f"/dashboard/categories/{ident}/edit"))
    assert 'name="description"' in form and "Cast iron and clay.</textarea>" in form
    saved = post(client, f"/dashboard/categories/{ident}/edit", {"name": "Teapots", "description": "Clay only."})
    assert saved.status_code == 302
    assert fresh(Category, ident).description == "Clay only."
    assert "Clay only." in text(client.get("/dashboard/categories/"))


def test_a_bad_category_description_is_a_form_error_and_nothing_is_saved(client, owner, make_category, fresh):
    category = make_category(owner, name="Cups", description="Kept.")
    refused = post(client, f"/dashboard/categories/{category.id}/edit", {"name": "Cups", "description": "bad\x00"})
    assert refused.status_code == 422 and "must not contain control characters" in text(refused)
    assert fresh(Category, category.id).description == "Kept."
