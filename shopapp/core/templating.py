"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def register_template_helpers(app: Flask) -> None:
    currency = app.config["CURRENCY"]

    @app.template_filter("money")
    def money(value: Decimal) -> str:
        amount = f"{value:,.2f}"
        symbol = _SYMBOLS.get(currency)
        return f"{symbol}{amount}" if symbol else f"{amount} {currency}"
