"""Copies and the generation in Redis, and the bumps that end every copy.

A copy is stored with the generation it was made under; a lookup reads the current generation and the
copy in one round trip, and serves the copy only if they match. A bump increments the generation.

Bumps survive Redis faults: a write bumps before its commit, waiting out a short write stall
(``CACHE_BUMP_TIMEOUT_S``: ``CLIENT PAUSE``, a failover), and is refused (503 with ``Retry-After``,
nothing changed) if the stall outlasts that while Redis still answers reads, since other processes may
be serving copies from it. When Redis does not answer at all, nobody is served a copy; the write
commits and this process owes a bump. A process that owes one (a bump failed, or any Redis call, which
may have hidden another process's bump) serves no copy until a bump went through, retried on each read.
When Redis fails, requests are answered without the cache and Redis is tried again a few seconds later.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask.wrappers import Response
from redis.backoff import NoBackoff
from redis.retry import Retry

from shopapp.core.cache import per_response
from shopapp.core.cache.per_response import Parts
from shopapp.core.errors import Unavailable

log = logging.getLogger(__name__)

EXTENSION = "shopapp.cache"
MAX_BODY_BYTES = 512 * 1024
RETRY_AFTER_FAILURE_S = 5.0
STALLED = "The catalog could not be updated just now; nothing was changed. Please try again in a few seconds."


def _client(url: str, timeout_s: float) -> redis.Redis:
    """A client whose calls take ``timeout_s`` at most: redis-py's default retries would take four times as long."""
    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


@dataclass(frozen=True)
class Found:
    """What a lookup read: the generation, the entry, the visitors' generation and this visitor's kept parts."""

    generation: bytes
    entry: bytes | None
    visitors: bytes | None
    parts: Parts | None


class SharedCache:
    def __init__(self, url: str, ttl: int, prefix: str, bump_timeout_s: float) -> None:
        self.redis = _client(url, timeout_s=0.5)
        self.patient = _client(url, timeout_s=bump_timeout_s)
        self.bump_timeout_s = bump_timeout_s
        self.ttl = ttl
        self.generation_key = prefix + "generation"
        self.entry_prefix = prefix + "entry:"
        self.visitors_key = prefix + "visitors"
        self.personal_prefix = prefix + "personal:"
        self._retry_at = 0.0
        self._owed = 0  # bumps (or failures that may hide one) this process has not made good yet
        self._lock = threading.Lock()

    def _call(self, operation: Callable[[], Any]) -> Any:
        """Run one Redis operation; None (and the cache off for a few seconds) if Redis fails."""
        if time.monotonic() < self._retry_at:
            return None
        try:
            return operation()
        except redis.RedisError as exc:
            self._retry_at = time.monotonic() + RETRY_AFTER_FAILURE_S
            self.owe()
            log.warning("cache unavailable, answering without it for %.0f s: %s", RETRY_AFTER_FAILURE_S, exc)
            return None

    def owe(self) -> None:
        with self._lock:
            self._owed += 1

    def _settled(self) -> bool:
        """Whether this process owes no bump, after paying what it owed (a bump covers every failure before it)."""
        owed = self._owed
        if owed == 0:
            return True
        if self._call(lambda: self._bump(self.redis)) is None:
            return False
        with self._lock:
            self._owed -= owed
        return True

    def lookup(self, key: str, personal_key: str | None = None) -> Found | None:
        """The current generation, the stored entry for ``key`` and, for a ``personal_key``, the visitors'
        generation and the parts kept under that key if they were kept under it (one round trip); None if
        Redis failed.

        A generation that is gone (a new Redis, or one that evicted it) starts again from the clock in
        nanoseconds, never from a number copies may still carry. (If another process set it first, this
        request's copy is stored under a generation that is not current: never served, no harm.)
        """
        if not self._settled():
            return None
        keys = [self.generation_key, self.entry_prefix + key]
        if personal_key is not None:
            keys += [self.visitors_key, self.personal_prefix + personal_key]
        found = self._call(lambda: self.redis.mget(keys))
        if found is None:
            return None
        generation, entry, visitors, kept = found + [None] * (4 - len(found))
        if generation is None or (personal_key is not None and visitors is None):
            restarted = self._restart_generations()
            entry = entry if generation is not None else None
            generation, visitors, kept = generation or restarted, visitors or restarted, None
        parts = None
        if kept is not None:
            kept_under, data = kept.split(b"\n", 1)
            parts = Parts.decode(data) if kept_under == visitors else None
        return Found(generation, entry, visitors, parts)

    def _restart_generations(self) -> bytes:
        """The generations that are gone start again from the clock (whichever process sets them first)."""
        now = str(time.time_ns()).encode()
        pipeline = self.redis.pipeline()
        for name in (self.generation_key, self.visitors_key):
            pipeline.set(name, now, nx=True)
        self._call(pipeline.execute)
        return now

    def keep_personal(self, personal_key: str, visitors: bytes, parts: Parts) -> None:
        kept = visitors + b"\n" + parts.encode()
        self._call(lambda: self.redis.set(self.personal_prefix + personal_key, kept, ex=self.ttl))

    def store(self, key: str, generation: bytes, response: Response) -> None:
        body = response.get_data()
        if len(body) > MAX_BODY_BYTES:
            return
        if response.mimetype == "text/html":
            body = per_response.to_placeholders(body)
        # The view's own headers: the per-response ones (security headers, request id, session cookie) are
        # added after it, to a stored answer as to a fresh one.
        headers = [(name, value) for name, value in response.headers.items() if name != "Content-Length"]
        entry = b"\n".join((generation, json.dumps(headers).encode(), body))
        self._call(lambda: self.redis.set(self.entry_prefix + key, entry, ex=self.ttl))

    @staticmethod
    def stored_response(generation: bytes, entry: bytes) -> Response | None:
        """The answer an entry holds if it was stored under ``generation``, its per-response parts still to fill in."""
        stored_under, headers, body = entry.split(b"\n", 2)
        if stored_under != generation:
            return None
        response = Response(body, status=200)
        response.headers.clear()
        for name, value in json.loads(headers):
            response.headers.add(name, value)
        return response

    def _bump(self, client: redis.Redis, *, catalog: bool = True) -> list[Any]:
        """End the stored answers (``catalog``) and every visitor's kept parts: the database has changed. A
        lost generation restarts from the clock here too (``INCR`` alone would restart it at 1, a number
        copies may carry)."""
        pipeline = client.pipeline()
        for name in (self.generation_key, self.visitors_key) if catalog else (self.visitors_key,):
            pipeline.set(name, time.time_ns(), nx=True)
            pipeline.incr(name)
        return pipeline.execute()

    def bump_before_commit(self, *, catalog: bool) -> None:
        """Bump, waiting out a short stall; refuse the write if Redis still serves copies but takes no bump."""
        try:
            self._bump(self.patient, catalog=catalog)
            return
        except redis.RedisError as exc:
            failure = exc
        try:  # past the breaker: a reader's failed store may have opened it while Redis serves copies
            self.redis.ping()
        except redis.RedisError:
            log.warning("cache unreachable (%s): the write commits, the bump is owed", failure)
            return
        log.warning("cache takes reads but no bump (%s): write refused", failure)
        raise Unavailable(STALLED, retry_after=max(1, round(self.bump_timeout_s)))

    def bump_after_commit(self, *, catalog: bool) -> None:
        if self._call(lambda: self._bump(self.redis, catalog=catalog)) is None:
            self.owe()
