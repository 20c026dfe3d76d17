"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask, g
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from shopapp.core.cache.per_response import personal
from shopapp.core.db import db
from shopapp.core.pagination import Page
from shopapp.core.routing import canonical_url, page_url
from shopapp.extensions import login_manager

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def register_template_helpers(app: Flask) -> None:
    currency = app.config["CURRENCY"]
    app.add_template_global(page_url, "page_url")
    app.add_template_global(canonical_url, "canonical_url")
    app.add_template_global(personal, "personal")

    @app.template_filter("money")
    def money(value: Decimal) -> str:
        amount = f"{value:,.2f}"
        symbol = _SYMBOLS.get(currency)
        return f"{symbol}{amount}" if symbol else f"{amount} {currency}"

    @app.template_filter("total")
    def total(page: Page[Any]) -> str:
        """A page's total, "1 000+" when it is only a lower bound (see core/pagination.py)."""
        return f"{page.total:,}".replace(",", "\N{NO-BREAK SPACE}") + ("+" if page.total_is_lower_bound else "")


def settle_current_user() -> None:
    """Load the signed-in user now, or fall back to anonymous when the database cannot.

    Flask-Login loads the user for every template it renders. On the 500 page of a
    database outage that load would fail again and break the error page itself.
    """
    try:
        current_user.is_authenticated  # noqa: B018  the attribute access loads the user
    except SQLAlchemyError:
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()
