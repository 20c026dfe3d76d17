from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from shopapp.products.services import CatalogQuery, search_catalog

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    latest = search_catalog(CatalogQuery(sort="newest", per_page=12))
    return render_template("main/index.html", products=latest)
