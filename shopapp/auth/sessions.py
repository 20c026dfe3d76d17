"""Browser sessions: Flask-Login loads the user only while the session's version is current."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shopapp.auth.models import User
from shopapp.core.htmx import shown_page, wants_fragment
from shopapp.extensions import db, login_manager

login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """``session_id`` is ``"<user id>:<token version>"`` (see ``User.get_id``)."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.token_version != int(version):
        return None
    return user


def require_login(blueprint: Blueprint) -> None:
    """Every page of ``blueprint`` needs a signed-in user; others go to the login page and come back."""

    @blueprint.before_request
    def _signed_in() -> ResponseReturnValue | None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None


@login_manager.unauthorized_handler
def unauthorized() -> ResponseReturnValue:
    """Send the visitor to the login page, to come back here once logged in.

    An htmx request would swap the login page in place of a fragment; it gets an
    ``HX-Redirect`` instead, back to the page the browser shows (``HX-Current-URL``).
    """
    flash("Please log in to see this page.", "info")
    if wants_fragment():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=shown_page() or None)
        return response
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
