"""The limiter's shared store, and the per-process memory store that stands in while the shared one is away.

Counts (the login throttle, ``auth/throttle.py``; the limits per client address, ``core/client_limits.py``)
live in the limiter's storage (``RATELIMIT_STORAGE_URI``), shared by every process when that is Redis. When it
does not answer, ``limit_store().run`` counts in a thread-safe memory store of this process with the same
limits: requests keep being limited (per process), one WARNING is logged per outage, and the shared store is
tried again every ``LOGIN_THROTTLE_RETRY_SECONDS`` (5 by default) until it answers; then it is used again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage

from shopapp.extensions import limiter

DEFAULT_RETRY_SECONDS = 5.0
# The login throttle's logger, which it logged its outages under before this module was split from it.
log = logging.getLogger("shopapp.auth.throttle")
T = TypeVar("T")


class LimitStore:
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
            except storage_errors(shared) as error:
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
                    "Rate-limit store unreachable (%s: %s); counting in this process's memory until it answers again.",
                    type(error).__name__,
                    error,
                )

    def _came_back(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "Rate-limit store answers again after %.0f s; shared counts are used again.",
                    time.monotonic() - self._down_since,
                )
                self._down_since = None
                self.fallback.reset()


def storage_errors(storage: Storage) -> tuple[type[Exception], ...]:
    base = storage.base_exceptions
    return (StorageError, ConnectionError, TimeoutError, *(base if isinstance(base, tuple) else (base,)))


def limit_store() -> LimitStore:
    """The current app's store (made on first use)."""
    store = current_app.extensions.get("limit_store")
    if store is None:
        retry = float(current_app.config.get("LOGIN_THROTTLE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        store = current_app.extensions.setdefault("limit_store", LimitStore(retry))
    return store
