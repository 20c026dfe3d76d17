"""Account pages: register, log in, log out, profile and password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from shopapp.auth import services
from shopapp.auth.forms import LoginForm, PasswordForm, ProfileForm, RegisterForm
from shopapp.auth.models import User
from shopapp.auth.throttle import Throttled
from shopapp.core.errors import AuthenticationFailed
from shopapp.core.forms import REFUSALS, attempt, page_write, refused_status, submit
from shopapp.orders import carts

bp = Blueprint("auth", __name__)

DEFAULT_PAGE = "shops_manage.index"


def local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Browsers read ``//host`` and ``/\\host`` as another site, and a scheme can be
    ``javascript:``; only a plain absolute path is followed after login.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _start_session(user: User, *, remember: bool = False) -> None:
    """Log ``user`` in on a fresh session: nothing planted before login survives, the CSRF token included.

    The one thing carried over is what the visitor put in their cart: the anonymous cart (its token in the
    session) merges into the account's, quantities added and capped at stock; the edge commits it with the rest.

    ``remember`` adds Flask-Login's remember cookie (``REMEMBER_COOKIE_DURATION``, 30 days at most); it
    carries the same ``"id:version"`` as the session, so logging out anywhere ends it too.
    """
    token = session.get(carts.SESSION_KEY)
    session.clear()
    if isinstance(token, str) and token:
        carts.merge_into_account(token, user)
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@page_write
def register() -> ResponseReturnValue:
    form = RegisterForm(next=request.args.get("next", ""))
    if current_user.is_authenticated:
        return redirect(local_target(form.next.data) or url_for(DEFAULT_PAGE))
    if form.validate_on_submit():
        done = submit(form, lambda: services.register(form.email.data, form.password.data, form.name.data))
        if done.ok:
            _start_session(done.value)
            flash(f"Welcome, {done.value.name}! Your account is ready.", "success")
            return redirect(local_target(form.next.data) or url_for(DEFAULT_PAGE))
    return render_template("auth/register.html", form=form), refused_status()


@bp.route("/login", methods=["GET", "POST"])
@page_write
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(local_target(form.next.data) or url_for(DEFAULT_PAGE))
    if form.validate_on_submit():
        # Throttled per account; a success may have upgraded the password hash, which the edge commits.
        sign_in = lambda: services.authenticate(form.email.data, form.password.data)  # noqa: E731
        done = attempt(sign_in, (Throttled, AuthenticationFailed))
        if isinstance(done.error, Throttled):
            form.form_errors.append(done.error.message)
            page = render_template("auth/login.html", form=form)
            return page, done.error.status, {"Retry-After": str(done.error.retry_after)}
        if done.error is not None:
            form.form_errors.append(done.error.message)
        else:
            assert done.value is not None
            _start_session(done.value, remember=form.remember.data)
            flash("You are logged in.", "success")
            return redirect(local_target(form.next.data) or url_for(DEFAULT_PAGE))
    return render_template("auth/login.html", form=form), refused_status()


@bp.post("/logout")
@page_write
def logout() -> ResponseReturnValue:
    """End the session for good: bumping the token version makes any copy of the cookie worthless."""
    if current_user.is_authenticated:
        services.end_all_sessions(current_user)
    # Clear first: logout_user then leaves its note to delete the remember-me cookie in the fresh session.
    session.clear()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("catalog.index"))


def _account_page(profile: ProfileForm, password: PasswordForm) -> ResponseReturnValue:
    return render_template("auth/account.html", profile=profile, password=password), refused_status()


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return _account_page(ProfileForm(obj=current_user), PasswordForm(formdata=None))


@bp.post("/account/profile")
@login_required
@page_write
def update_profile() -> ResponseReturnValue:
    form = ProfileForm()
    if form.validate_on_submit() and submit(form, lambda: services.update_profile(current_user, form.name.data)).ok:
        flash("Your profile is saved.", "success")
        return redirect(url_for("auth.account"))
    return _account_page(form, PasswordForm(formdata=None))


@bp.post("/account/password")
@login_required
@page_write
def change_password() -> ResponseReturnValue:
    """Change the password; every other session ends, this one carries on with the new version."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        change = lambda: services.change_password(user, form.current_password.data, form.new_password.data)  # noqa: E731
        done = submit(form, change, (*REFUSALS, Throttled))
        if isinstance(done.error, Throttled):  # wrong current passwords count like wrong logins
            profile = ProfileForm(obj=current_user, formdata=None)
            page = render_template("auth/account.html", profile=profile, password=form)
            return page, done.error.status, {"Retry-After": str(done.error.retry_after)}
        if done.ok:
            login_user(user)
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("auth.account"))
    return _account_page(ProfileForm(obj=current_user, formdata=None), form)
