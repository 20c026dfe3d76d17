"""Logs to stdout: one line per request with its id, user, status and duration."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request
from flask.wrappers import Response
from flask_login import current_user

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
logger = logging.getLogger("shopapp.request")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("shopapp")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        started = g.get("request_started")
        duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        user_id = _user_id()
        # The path only: query strings may carry secrets (a token pasted in a URL) and are never logged.
        logger.info(
            "method=%s path=%s status=%s duration_ms=%.1f user_id=%s cache=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            user_id,
            g.get("cache", "-"),  # hit, miss or bypass on the views the shared cache serves (core/cache/)
        )
        return response


def _user_id() -> str:
    """Who made the request: the API's bearer-token user (``g.user_id``) or the session's, else ``-``.

    Flask-Login's user is only read when the request already loaded it, so logging never costs a query.
    """
    if g.get("user_id") is not None:
        return str(g.user_id)
    if g.get("_login_user") is not None and current_user.is_authenticated:
        return current_user.get_id().split(":")[0]
    return "-"
