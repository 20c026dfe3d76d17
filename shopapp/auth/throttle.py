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
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage

from shopapp.core.errors import DomainError
from shopapp.extensions import limiter

MAX_FAILED_LOGINS_PER_MINUTE = 10
WINDOW_SECONDS = 60
DEFAULT_RETRY_SECONDS = 5.0
_KEY_PREFIX = "login-attempts:"

log = logging.getLogger(__name__)
T = TypeVar("T")

SIGN_IN_THROTTLED = "Too many failed sign-in attempts for this account. Please wait and try again."


class Throttled(DomainError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    status = 429

    def __init__(self, retry_after: int, message: str = SIGN_IN_THROTTLED) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _account_key(email: str) -> str:
    """A digest of the normalised email: the shared store never holds addresses in clear."""
    return _KEY_PREFIX + hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


class _Stores:
    """The shared store, and the per-process memory store that stands in while the shared one is away."""

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self.fallback = MemoryStorage()
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def run(self, operation: Callable[[Storage], T]) -> tuple[T, Storage]:
        """``operation`` on the shared store, or on the fallback while the shared one is away."""
        shared = limiter.storage
        if self._down_since is None or time.monotonic() >= self._retry_at:
            try:
                value = operation(shared)
            except _storage_errors(shared) as error:
                self._went_away(error)
            else:
                if self._down_since is not None:
                    self._came_back()
                return value, shared
        return operation(self.fallback), self.fallback

    def _went_away(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self.retry_seconds
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning(
                    "Login throttle: the rate-limit store is unreachable (%s: %s); counting in this process's "
                    "memory until it answers again.",
                    type(error).__name__,
                    error,
                )

    def _came_back(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "Login throttle: the rate-limit store answers again after %.0f s; shared counts are used again.",
                    time.monotonic() - self._down_since,
                )
                self._down_since = None
                self.fallback.reset()


def _storage_errors(storage: Storage) -> tuple[type[BaseException], ...]:
    base = storage.base_exceptions
    return (StorageError, ConnectionError, TimeoutError, *(base if isinstance(base, tuple) else (base,)))


def _stores() -> _Stores:
    stores = current_app.extensions.get("login_throttle")
    if stores is None:
        retry = float(current_app.config.get("LOGIN_THROTTLE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        stores = current_app.extensions.setdefault("login_throttle", _Stores(retry))
    return stores


def stores_down() -> bool:
    """Whether the counts are in this process's memory because the shared store is away (for tests)."""
    return _stores().down


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
        except _storage_errors(storage):
            pass  # the store went away since: the place is lost with it, no harm beyond one guess fewer


def reserve(email: str, message: str = SIGN_IN_THROTTLED) -> Attempt:
    """Count an attempt for ``email`` before its password is checked; ``Throttled`` beyond the limit."""
    if not limiter.enabled:
        return Attempt(None, None)
    key = _account_key(email)
    count, storage = _stores().run(lambda store: store.incr(key, WINDOW_SECONDS))
    if count > MAX_FAILED_LOGINS_PER_MINUTE:
        try:
            ends_at = storage.get_expiry(key)
        except _storage_errors(storage):
            ends_at = time.time() + WINDOW_SECONDS
        raise Throttled(retry_after=max(1, min(WINDOW_SECONDS, math.ceil(ends_at - time.time()))), message=message)
    return Attempt(key, storage)
