"""RFC 9457 problem details for every error under /api/v1; HTML pages keep their own error pages.

One mapping turns the services' domain errors, Werkzeug's HTTP errors and anything unexpected
into ``application/problem+json``. Nothing internal (trace, SQL, path) ever reaches the body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import psycopg
from flask import Response, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestURITooLarge
from werkzeug.http import HTTP_STATUS_CODES

from shopapp.api import bp
from shopapp.api.schemas import FieldError, Problem
from shopapp.core.db_timeouts import UNAVAILABLE_DETAIL, is_database_unavailable, unavailable_headers
from shopapp.core.errors import DomainError, Refused, stale_as_conflict
from shopapp.core.routing import MAX_URL_LENGTH, url_length
from shopapp.core.uploads import too_large_detail
from shopapp.extensions import db

PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
INVALID_DETAIL = "Some values are invalid; see errors."
# RFC 9110 names; Werkzeug still uses the older ones for these.
_TITLES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}
_PASSED_ON_HEADERS = ("Allow", "Retry-After")
logger = logging.getLogger("shopapp.api")


class ApiProblem(Exception):
    """A request refused by the API layer itself (bad JSON, wrong Content-Type, invalid fields...)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})


def problem(
    status: int, detail: str, *, errors: list[FieldError] | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    title = _TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error")
    body = Problem(title=title, status=status, detail=detail, errors=errors)
    payload = body.model_dump_json(exclude={"errors"} if errors is None else None)
    response = Response(payload, status=status, mimetype=PROBLEM_JSON)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="shopapp"'
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiProblem)
def _api_problem(error: ApiProblem) -> ResponseReturnValue:
    db.session.rollback()
    return problem(error.status, error.detail, errors=error.errors, headers=error.headers)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    db.session.rollback()
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    if isinstance(error, Refused):
        errors = [FieldError(field=p.field, message=p.message) for p in error.problems]
        detail = INVALID_DETAIL if error.status == 422 else error.problems[0].message
        return problem(error.status, detail, errors=errors)
    if error.status == 422:
        return problem(422, INVALID_DETAIL, errors=[FieldError(field=error.field, message=error.message)])
    return problem(error.status, error.message, headers=headers)


@bp.errorhandler(StaleDataError)
def _stale(error: StaleDataError) -> ResponseReturnValue:
    return _domain_error(stale_as_conflict(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    db.session.rollback()
    code = error.code or 500
    headers = {key: value for key, value in error.get_headers() if key in _PASSED_ON_HEADERS}
    detail = too_large_detail() if code == 413 else error.description or HTTP_STATUS_CODES.get(code, "Error")
    return problem(code, detail, headers=headers)


@bp.errorhandler(DBAPIError)
@bp.errorhandler(PoolTimeout)
@bp.errorhandler(psycopg.OperationalError)
def _database_error(error: Exception) -> ResponseReturnValue:
    """The database is away or too slow: 503 and when to try again (core/db_timeouts.py), never a 500."""
    if not is_database_unavailable(error):
        return _unexpected(error)
    _safe_rollback()
    logger.warning("database unavailable in %s %s: %s", request.method, request.path, error.__class__.__name__)
    return problem(503, UNAVAILABLE_DETAIL, headers=unavailable_headers())


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        logger.debug("rollback failed after a database error", exc_info=True)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> ResponseReturnValue:
    _safe_rollback()
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return problem(500, "Something went wrong on our side. Please try again later.")


def refuse_long_urls() -> ResponseReturnValue | None:
    """A request target over ``MAX_URL_LENGTH`` is 414 before anything reads it: problem+json under /api/v1,
    the site's error page elsewhere. Registered first of the app's ``before_request`` functions."""
    if url_length() <= MAX_URL_LENGTH:
        return None
    if _is_api_path(request.path):
        return problem(414, f"The URL is longer than {MAX_URL_LENGTH} characters; send long values in a body.")
    raise RequestURITooLarge()


def unrouted_api_request() -> ResponseReturnValue | None:
    """404/405 for /api/v1 URLs that match no route never reach the blueprint's handlers: answer them here."""
    error = request.routing_exception
    if isinstance(error, HTTPException) and (error.code or 0) >= 400 and _is_api_path(request.path):
        return _http_error(error)
    return None


def _is_api_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
