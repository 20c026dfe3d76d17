"""HTML error pages in the site's layout; domain errors raised from a page become them too."""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

from shopapp.core.errors import DomainError
from shopapp.core.templating import settle_current_user
from shopapp.extensions import db


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        settle_current_user()
        response = error.get_response()
        body = render_template("errors/error.html", code=code, title=error.name, message=_message(code))
        response.set_data(body)
        response.mimetype = "text/html"
        return response

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> ResponseReturnValue:
        # A page that lets a domain error escape shows it as its status; Forbidden reads as
        # "not found" so pages never reveal what belongs to someone else.
        code = 404 if error.status in (403, 404) else error.status
        db.session.rollback()
        settle_current_user()
        return render_template(
            "errors/error.html", code=code, title=_TITLES.get(code, "Error"), message=_message(code)
        ), code

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> ResponseReturnValue:
        db.session.rollback()
        settle_current_user()
        return render_template("errors/error.html", code=500, title="Something went wrong", message=_message(500)), 500


_TITLES = {404: "Page not found", 409: "Conflict", 412: "Changed meanwhile", 422: "Invalid input"}


def _message(code: int) -> str:
    return {
        400: "The request could not be understood. Please go back and try again.",
        403: "You do not have access to this page.",
        404: "We could not find that page. It may have been moved or deleted.",
        405: "That action is not available here.",
        413: "That upload is too large.",
        429: "Too many attempts. Please wait a moment and try again.",
        500: "Something went wrong on our side. Please try again in a moment.",
    }.get(code, "Something went wrong with that request.")
