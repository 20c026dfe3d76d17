"""Login throttling per account: too many wrong passwords for one email and that email must wait.

Counts live in the limiter's storage (``RATELIMIT_STORAGE_URI``), so every app process behind
a load balancer shares them when that is Redis. The key is the normalised email, never the
client's address: a spoofed ``X-Forwarded-For`` or a botnet does not earn more guesses.
Pages and the API call the same two functions around ``auth.services.authenticate``.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItemPerMinute
from limits.strategies import MovingWindowRateLimiter

from shopapp.core.errors import DomainError
from shopapp.extensions import limiter

MAX_FAILED_LOGINS_PER_MINUTE = 10
_FAILED_LOGINS = RateLimitItemPerMinute(MAX_FAILED_LOGINS_PER_MINUTE, namespace="login-failures")


class Throttled(DomainError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed sign-in attempts for this account. Please wait and try again.")
        self.retry_after = retry_after


def _account_key(email: str) -> str:
    """A digest of the normalised email: the shared store never holds addresses in clear."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _window() -> MovingWindowRateLimiter:
    """A moving window over the limiter's own storage: "10 within any minute", not per clock minute."""
    return MovingWindowRateLimiter(limiter.storage)


def check_login_allowed(email: str) -> None:
    """Raise ``Throttled`` while this email has used up its failed attempts."""
    if not limiter.enabled:
        return
    window, key = _window(), _account_key(email)
    if not window.test(_FAILED_LOGINS, key):
        reset_at, _remaining = window.get_window_stats(_FAILED_LOGINS, key)
        raise Throttled(retry_after=max(1, math.ceil(reset_at - time.time())))


def record_failed_login(email: str) -> None:
    if limiter.enabled:
        _window().hit(_FAILED_LOGINS, _account_key(email))
