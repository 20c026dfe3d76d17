"""Liveness and readiness probes for process managers and load balancers.

``/readyz`` answers within ``READY_WAIT_S`` whatever the database does: the check runs in a thread of
its own, with short bounds on its waits, and the probe stops waiting for it after that time. While a check
is still waiting on a database that does not answer, later probes wait for that same check instead of
starting more of them.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shopapp.core.db import db
from shopapp.core.db_timeouts import short_waits, unavailable_headers

bp = Blueprint("health", __name__)
READY_WAIT_S = 1.5
_CHECK_BOUND_S = 1.0
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz")
_lock = threading.Lock()


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


def _database_answers(app: Flask) -> bool:
    with app.app_context(), short_waits(_CHECK_BOUND_S):
        try:
            db.session.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            db.session.rollback()
            return False
        finally:
            db.session.remove()


def _check(app: Flask) -> Future[bool]:
    """The app's check still under way, or a new one (kept in ``app.extensions``, not a module-wide dict)."""
    with _lock:
        future: Future[bool] | None = app.extensions.get("readyz_check")
        if future is None or future.done():
            future = app.extensions["readyz_check"] = _executor.submit(_database_answers, app)
        return future


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    try:
        ready = _check(current_app._get_current_object()).result(timeout=READY_WAIT_S)  # type: ignore[attr-defined]
    except FutureTimeout:
        ready = False
    if not ready:
        return jsonify(status="unavailable", detail="The database does not answer."), 503, unavailable_headers()
    return jsonify(status="ok")
