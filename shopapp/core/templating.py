"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from shopapp.extensions import db

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def register_template_helpers(app: Flask) -> None:
    currency = app.config["CURRENCY"]

    @app.template_filter("money")
    def money(value: Decimal) -> str:
        amount = f"{value:,.2f}"
        symbol = _SYMBOLS.get(currency)
        return f"{symbol}{amount}" if symbol else f"{amount} {currency}"

    @app.template_global()
    def signed_in_user() -> Any:
        """The signed-in user for the navigation, or None, also when loading them fails.

        The 500 page may be showing because the database is down; loading the user
        would fail again there, and the error page must still render.
        """
        try:
            return current_user if current_user.is_authenticated else None
        except SQLAlchemyError:
            db.session.rollback()
            return None
