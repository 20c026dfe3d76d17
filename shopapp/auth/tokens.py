"""API access tokens: short-lived JWTs (RFC 7519, HS256) that logout and password changes revoke.

A token carries the user's ``token_version`` as ``tv``; bumping the column (``end_all_sessions``)
kills every token issued before, without a denylist. The signing key is derived from
``SECRET_KEY`` for this one purpose, so a session cookie signature can never pass as a token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app

from shopapp.auth.models import User
from shopapp.core.db import utcnow
from shopapp.core.errors import AuthenticationFailed
from shopapp.extensions import db

ALGORITHM = "HS256"
AUDIENCE = "shopapp-api"
INVALID_TOKEN = "The access token is missing, invalid, expired or revoked."  # noqa: S105 - a message
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "tv", "aud"]


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    expires_in: int


def _signing_key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"shopapp api access token", hashlib.sha256).digest()


def issue_access_token(user: User) -> AccessToken:
    ttl: timedelta = current_app.config["JWT_ACCESS_TOKEN_TTL"]
    now = utcnow()
    claims = {"sub": str(user.id), "iat": now, "exp": now + ttl, "tv": user.token_version, "aud": AUDIENCE}
    token = jwt.encode(claims, _signing_key(), algorithm=ALGORITHM)
    return AccessToken(access_token=token, expires_in=int(ttl.total_seconds()))


def user_for_token(token: str) -> User:
    """The active user a valid, current token belongs to; ``AuthenticationFailed`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed(INVALID_TOKEN) from exc
    subject, version = claims["sub"], claims["tv"]
    if not (isinstance(subject, str) and subject.isdigit() and len(subject) <= 18):
        raise AuthenticationFailed(INVALID_TOKEN)
    if isinstance(version, bool) or not isinstance(version, int):
        raise AuthenticationFailed(INVALID_TOKEN)
    user = db.session.get(User, int(subject))
    if user is None or not user.is_active or user.token_version != version:
        raise AuthenticationFailed(INVALID_TOKEN)
    return user
