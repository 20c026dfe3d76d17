"""HTML error pages in the site's layout; domain errors raised from a page become them too.

An htmx request that swaps part of a page gets the message alone, retargeted to the page's
``#request-error`` region: the part it meant to replace stays as it was, and the reason shows.
"""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, make_response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from shopapp.core.db import db
from shopapp.core.db_timeouts import is_database_unavailable, unavailable_headers
from shopapp.core.errors import DomainError, NotDeleted, stale_as_conflict
from shopapp.core.htmx import wants_fragment
from shopapp.core.templating import settle_current_user


def error_page(code: int, title: str | None = None, message: str | None = None) -> ResponseReturnValue:
    """The page of ``code``, saying ``message`` (else the status's usual line)."""
    settle_current_user()
    context = {"code": code, "title": title or _TITLES.get(code, "Error"), "message": message or _message(code)}
    if not wants_fragment():
        return render_template("errors/error.html", **context), code
    response = make_response(render_template("errors/_alert.html", **context), code)
    response.headers["HX-Retarget"] = "#request-error"
    response.headers["HX-Reswap"] = "innerHTML show:top"
    return response


def domain_error_page(error: DomainError) -> ResponseReturnValue:
    """A page that lets a domain error escape shows it as its status; Forbidden reads as "not found" so pages
    never reveal what belongs to someone else. A restore of something not deleted says so in its own words."""
    db.session.rollback()
    message = error.message if isinstance(error, NotDeleted) else None
    response = make_response(error_page(404 if error.status in (403, 404) else error.status, message=message))
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        response = make_response(error_page(code, error.name))
        for key, value in error.get_headers():  # Allow, Retry-After, WWW-Authenticate...
            if key.lower() != "content-type":
                response.headers.setdefault(key, value)
        return response

    app.register_error_handler(DomainError, domain_error_page)

    @app.errorhandler(StaleDataError)
    def stale(error: StaleDataError) -> ResponseReturnValue:
        return domain_error_page(stale_as_conflict(error))

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> ResponseReturnValue:
        _safe_rollback()
        return error_page(500, "Something went wrong")

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(psycopg.OperationalError)
    def database_unavailable(error: Exception) -> ResponseReturnValue:
        """The database is away or too slow (core/db_timeouts.py): 503 with Retry-After, never a 500."""
        if not is_database_unavailable(error):
            raise error  # any other database error: a 500, as before (Flask's handle_exception)
        _safe_rollback()
        log.warning("database unavailable in %s %s: %s", request.method, request.path, error.__class__.__name__)
        response = make_response(error_page(503, "Temporarily unavailable"))
        response.headers.update(unavailable_headers())
        return response


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        log.debug("rollback failed after a database error", exc_info=True)


log = logging.getLogger("shopapp.errors")


_TITLES = {404: "Page not found", 409: "Conflict", 412: "Changed meanwhile", 413: "Too large", 422: "Invalid input"}


def _message(code: int) -> str:
    return {
        400: "The request could not be understood. Please go back and try again.",
        403: "You do not have access to this page.",
        404: "We could not find that page. It may have been moved or deleted.",
        405: "That action is not available here.",
        409: "Someone changed this meanwhile. Please reload the page and try again.",
        413: "That upload is too large.",
        414: "That address is too long. Please go back and try a shorter search.",
        429: "Too many attempts. Please wait a moment and try again.",
        503: "The site is temporarily unavailable. Please try again in a few seconds.",
        500: "Something went wrong on our side. Please try again in a moment.",
    }.get(code, "Something went wrong with that request.")
