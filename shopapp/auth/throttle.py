"""Password throttling per account: too many wrong passwords for one email and that email must wait.

Counts live in the limiter's storage (``RATELIMIT_STORAGE_URI``), so every app process behind
a load balancer shares them when that is Redis. The key is the normalised email, never the
client's address: a spoofed ``X-Forwarded-For`` or a botnet does not earn more guesses.
``auth.services.authenticate`` (page and API logins) and ``auth.services.change_password`` (the
current password) both go through ``reserve``.

Counting is atomic: an attempt takes its place in the count (one INCR with expiry, a Lua script on
Redis) *before* its password is checked, so however many arrive at once, at most
``MAX_FAILED_LOGINS_PER_MINUTE`` passwords are checked per window. A right password gives its place
back (successes do not count and do not clear earlier failures); a wrong one keeps it. The window
starts at the first counted attempt and lasts a minute; beyond the limit every attempt, the right
password included, is a 429 with ``Retry-After`` until it ends.

When the shared store does not answer (Redis down), the counts go to a per-process, thread-safe
memory store with the same limits: sign-ins keep working, still throttled (per process), one
WARNING is logged per outage, and the shared store is tried again every ``LOGIN_THROTTLE_RETRY_SECONDS``
(5 by default) until it answers; then it is used again.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits.storage import Storage

from shopapp.core.errors import DomainError
from shopapp.core.limit_store import limit_store, storage_errors
from shopapp.extensions import limiter

MAX_FAILED_LOGINS_PER_MINUTE = 10
WINDOW_SECONDS = 60
_KEY_PREFIX = "login-attempts:"

SIGN_IN_THROTTLED = "Too many failed sign-in attempts for this account. Please wait and try again."


class Throttled(DomainError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    status = 429

    def __init__(self, retry_after: int, message: str = SIGN_IN_THROTTLED) -> None:
        super().__init__(message)
        self.retry_after: int = retry_after


def _account_key(email: str) -> str:
    """A digest of the normalised email: the shared store never holds addresses in clear."""
    return _KEY_PREFIX + hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def stores_down() -> bool:
    """Whether the counts are in this process's memory because the shared store is away (for tests)."""
    return limit_store().down


class Attempt:
    """One password check's place in its account's count; ``release`` gives the place back (a right password)."""

    def __init__(self, key: str | None, storage: Storage | None) -> None:
        self._key, self._storage = key, storage

    def release(self) -> None:
        if self._key is None or self._storage is None:
            return
        key, storage, self._key = self._key, self._storage, None
        try:
            if storage.incr(key, WINDOW_SECONDS, amount=-1) < 0:  # the window ended meanwhile
                storage.clear(key)
        except storage_errors(storage):
            pass  # the store went away since: the place is lost with it, no harm beyond one guess fewer


def reserve(email: str, message: str = SIGN_IN_THROTTLED) -> Attempt:
    """Count an attempt for ``email`` before its password is checked; ``Throttled`` beyond the limit."""
    if not limiter.enabled:
        return Attempt(None, None)
    key = _account_key(email)
    count, storage = limit_store().run(lambda store: store.incr(key, WINDOW_SECONDS))
    if count > MAX_FAILED_LOGINS_PER_MINUTE:
        try:
            ends_at = storage.get_expiry(key)
        except storage_errors(storage):
            ends_at = time.time() + WINDOW_SECONDS
        raise Throttled(retry_after=max(1, min(WINDOW_SECONDS, math.ceil(ends_at - time.time()))), message=message)
    return Attempt(key, storage)
