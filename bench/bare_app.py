"""The ceiling: a bare Flask app whose one endpoint runs ``SELECT 1`` through SQLAlchemy."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import create_engine, text

from shopapp.config import normalize_database_url

app = Flask(__name__)
engine = create_engine(normalize_database_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)


@app.get("/")
def select_one():  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        value = conn.execute(text("SELECT 1")).scalar_one()
    return jsonify(value=value)
