"""Registering and authenticating users; ending their sessions and tokens."""

from __future__ import annotations

from sqlalchemy import func, select

from shopapp.auth import throttle
from shopapp.auth.models import User
from shopapp.auth.passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from shopapp.core import validation
from shopapp.core.db import integrity_as
from shopapp.core.errors import AuthenticationFailed, Conflict, Invalid, NotFound, gathering
from shopapp.extensions import db

BAD_CREDENTIALS = "Invalid email or password."
EMAIL_TAKEN = "An account with this email already exists."
# The rules of each value; the API and the page forms also check by them the values they could read when another
# was not even of the right type, so that one answer names every problem.
REGISTRATION: validation.Rules = {"email": validation.email, "password": validation.password, "name": validation.name}
NEW_PASSWORD: validation.Rules = {"new_password": lambda v: validation.password(v, "new_password")}


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def register(email: str, password: str, name: str) -> User:
    """Every value is checked, each problem reported, before any is looked up or hashed: a megabyte "password"
    costs no hashing. A taken email (409) is reported once the values are valid."""
    with gathering() as problems:
        values = validation.clean_fields({"email": email, "password": password, "name": name}, REGISTRATION, problems)
    if find_by_email(values["email"]) is not None:
        raise Conflict(EMAIL_TAKEN, "email")
    user = User(email=values["email"], name=values["name"], password_hash=hash_password(values["password"]))
    # Two concurrent registrations both pass the check above; the unique index decides.
    with integrity_as(Conflict(EMAIL_TAKEN, "email")):
        db.session.add(user)
    return user


PASSWORD_CHANGE_THROTTLED = "Too many wrong current passwords for this account. Please wait and try again."  # noqa: S105


def authenticate(email: str, password: str) -> User:
    """The user these credentials belong to; one error for every way they can be wrong.

    Every attempt counts towards the account's throttle before the password is checked (``throttle.reserve``:
    ``Throttled`` beyond the limit, the right password included); a successful one gives its place back.
    """
    attempt = throttle.reserve(email)
    try:
        user = _check_credentials(email, password)
    except AuthenticationFailed:
        raise  # a wrong guess keeps its place in the count
    except Exception:
        attempt.release()  # not a guess (the database failed, say)
        raise
    attempt.release()
    return user


def _check_credentials(email: str, password: str) -> User:
    if len(password) > validation.PASSWORD_MAX:
        raise AuthenticationFailed(BAD_CREDENTIALS)
    user = find_by_email(email) if email and len(email) <= 254 else None
    if user is None:
        burn_verification_time(password)
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.flush()
    return user


def end_all_sessions(user: User) -> None:
    """Every session cookie and API token issued to the user so far stops working."""
    user.token_version += 1
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Wrong current passwords count towards the same per-account throttle as logins; a wrong current password
    and an invalid new one are reported together."""
    attempt = throttle.reserve(user.email, PASSWORD_CHANGE_THROTTLED)
    with gathering() as problems:
        if verify_password(user.password_hash, current_password):
            attempt.release()
        else:
            problems.add(Invalid("is not your current password", "current_password"))
        new = validation.clean_fields({"new_password": new_password}, NEW_PASSWORD, problems)
    user.password_hash = hash_password(new["new_password"])
    end_all_sessions(user)


def update_profile(user: User, name: str) -> User:
    user.name = validation.name(name)
    db.session.flush()
    return user


def set_active(email: str, active: bool) -> User:
    """An operator's switch for an account: a deactivated one cannot sign in, and every session and token it
    had ends; reactivating it lets it sign in again (nothing it made was touched either way)."""
    user = find_by_email(email)
    if user is None:
        raise NotFound("No account has this email.", "email")
    user.is_active = active
    if not active:
        end_all_sessions(user)
    db.session.flush()
    return user
