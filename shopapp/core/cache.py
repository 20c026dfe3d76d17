"""A cache, shared by every app process, of what anonymous visitors read of the catalog.

The catalog's public pages and API reads answer every anonymous visitor alike and are most of the
traffic; building one costs 2 to 15 ms of Python and SQL, serving a stored copy a Redis round trip.
Copies live in Redis (``CACHE_URL``; no URL, no cache) under a *generation*: every committed
transaction that wrote through the app's session (to anything but accounts) increments it (the
session events at the bottom), and a copy made under an older generation is never served. A reader therefore never gets
an answer older than the last write that had committed when its request began, in any process.
``CACHE_TTL`` bounds how long a copy lives, for changes made to the database outside the app.

The generation is bumped twice for each write: before the commit, waiting out a short write stall
(``CACHE_BUMP_TIMEOUT_S``: ``CLIENT PAUSE``, a failover), and after it, for copies a reader made from the
old rows in between. A write whose first bump fails while Redis still answers reads (other processes
may be serving copies from it) is refused: 503 with ``Retry-After``, nothing changed. When Redis does
not answer at all, nobody is served a copy; the write commits and this process owes a bump. A process
that owes one (a bump failed, or any Redis call: it may have missed another process's bump) serves no
copy until a bump went through, retried on each read.

Only anonymous reads are served from it or stored: GET or HEAD, no ``Authorization`` header, no
remember-me cookie, and a session (if any) that is nobody's login and holds no flash message. Only
200 answers that set no cookie of their own are stored, keyed by scheme, host, path, query string and
whether htmx asked for a fragment (the only parts of a request these views read). What a page holds
per response, its CSP nonce and the visitor's CSRF token, is stored as a placeholder and filled in
for each request. When Redis fails, requests are answered without the cache and Redis is tried
again a few seconds later (after a bump, as above).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from flask import Flask, current_app, g, has_app_context, request, session
from flask.wrappers import Response
from flask_login.config import COOKIE_NAME as DEFAULT_REMEMBER_COOKIE
from flask_wtf.csrf import generate_csrf
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

from shopapp.core.errors import Unavailable
from shopapp.core.htmx import wants_fragment
from shopapp.core.security import csp_nonce

log = logging.getLogger(__name__)

EXTENSION = "shopapp.cache"
MAX_BODY_BYTES = 512 * 1024
RETRY_AFTER_FAILURE_S = 5.0
STALLED = "The catalog could not be updated just now; nothing was changed. Please try again in a few seconds."
_WRITTEN = "shopapp.cache.written"
# Session keys that make a visitor's pages their own: Flask-Login's user, and pending flash messages.
_PERSONAL_SESSION_KEYS = frozenset({"_user_id", "_flashes"})


def _csrf_field() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


# What differs in every answer: (placeholder, the value this request rendered, the value for a hit).
_PER_RESPONSE: tuple[tuple[bytes, Callable[[], str | None], Callable[[], str]], ...] = (
    (b"\x00csp-nonce\x00", csp_nonce, csp_nonce),
    (b"\x00csrf-token\x00", lambda: g.get(_csrf_field()), generate_csrf),
)


def _client(url: str, timeout_s: float) -> redis.Redis:
    """A client whose calls take ``timeout_s`` at most: redis-py's default retries would take four times as long."""
    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


class SharedCache:
    def __init__(self, url: str, ttl: int, prefix: str, bump_timeout_s: float) -> None:
        self.redis = _client(url, timeout_s=0.5)
        self.patient = _client(url, timeout_s=bump_timeout_s)
        self.bump_timeout_s = bump_timeout_s
        self.ttl = ttl
        self.generation_key = prefix + "generation"
        self.entry_prefix = prefix + "entry:"
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

    def lookup(self, key: str) -> tuple[bytes, bytes | None] | None:
        """The current generation and the stored entry for ``key`` (one round trip); None if Redis failed.

        A generation that is gone (a new Redis, or one that evicted it) starts again from the clock in
        nanoseconds, never from a number copies may still carry. (If another process set it first, this
        request's copy is stored under a generation that is not current: never served, no harm.)
        """
        if not self._settled():
            return None
        found = self._call(lambda: self.redis.mget(self.generation_key, self.entry_prefix + key))
        if found is None:
            return None
        generation, entry = found
        if generation is None:
            generation = str(time.time_ns()).encode()
            self._call(lambda: self.redis.set(self.generation_key, generation, nx=True))
            return generation, None
        return generation, entry

    def store(self, key: str, generation: bytes, response: Response) -> None:
        body = response.get_data()
        if len(body) > MAX_BODY_BYTES:
            return
        if response.mimetype == "text/html":
            for placeholder, rendered, _fresh in _PER_RESPONSE:
                if value := rendered():
                    body = body.replace(value.encode(), placeholder)
        # The view's own headers: the per-response ones (security headers, request id, session cookie) are
        # added after it, to a stored answer as to a fresh one.
        headers = [(name, value) for name, value in response.headers.items() if name != "Content-Length"]
        entry = b"\n".join((generation, json.dumps(headers).encode(), body))
        self._call(lambda: self.redis.set(self.entry_prefix + key, entry, ex=self.ttl))

    def _bump(self, client: redis.Redis) -> list[Any]:
        """End every stored answer: the database has changed. A lost generation restarts from the clock
        here too (``INCR`` alone would restart it at 1, a number copies may carry)."""
        return client.pipeline().set(self.generation_key, time.time_ns(), nx=True).incr(self.generation_key).execute()

    def bump_before_commit(self) -> None:
        """Bump, waiting out a short stall; refuse the write if Redis still serves copies but takes no bump."""
        try:
            self._bump(self.patient)
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

    def bump_after_commit(self) -> None:
        if self._call(lambda: self._bump(self.redis)) is None:
            self.owe()


def init_cache(app: Flask) -> None:
    """Turn the cache on when ``CACHE_URL`` names a Redis server."""
    url = app.config.get("CACHE_URL")
    if not url:
        return
    # One database, one set of copies, even when several deployments share a Redis server.
    prefix = app.config.get("CACHE_PREFIX") or (
        "shopapp:" + hashlib.sha256(app.config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12] + ":"
    )
    app.extensions[EXTENSION] = SharedCache(url, app.config["CACHE_TTL"], prefix, app.config["CACHE_BUMP_TIMEOUT_S"])


def _cache() -> SharedCache | None:
    return current_app.extensions.get(EXTENSION)


def _anonymous_read() -> bool:
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return False
    if current_app.config.get("REMEMBER_COOKIE_NAME", DEFAULT_REMEMBER_COOKIE) in request.cookies:
        return False
    return _PERSONAL_SESSION_KEYS.isdisjoint(session.keys())


def _key() -> str:
    address = f"{request.scheme}://{request.host}{request.path}?".encode() + request.query_string
    return hashlib.sha256(address + (b"#fragment" if wants_fragment() else b"")).hexdigest()


def _stored_response(headers: bytes, body: bytes) -> Response:
    for placeholder, _rendered, fresh in _PER_RESPONSE:
        if placeholder in body:
            body = body.replace(placeholder, fresh().encode())
    response = Response(body, status=200)
    response.headers.clear()
    for name, value in json.loads(headers):
        response.headers.add(name, value)
    return response


def shared(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve ``view``'s answers to anonymous readers from the shared cache (see the module's docstring)."""

    @functools.wraps(view)
    def cached_view(*args: Any, **kwargs: Any) -> Any:
        cache = _cache()
        if cache is None:
            return view(*args, **kwargs)
        key = _key()
        found = cache.lookup(key) if _anonymous_read() else None
        if found is None:  # a personal read, or Redis failed
            g.cache = "bypass"
            return view(*args, **kwargs)
        generation, entry = found
        stored_under, headers, body = entry.split(b"\n", 2) if entry is not None else (None, b"", b"")
        if stored_under == generation:
            g.cache = "hit"
            return _stored_response(headers, body)
        g.cache = "miss"
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and "Set-Cookie" not in response.headers and not response.is_streamed:
            cache.store(key, generation, response)
        return response

    return cached_view


# Any write through the app's session ends the stored answers once it commits, except a write to tables
# that no cached answer reads: accounts (registrations, logouts and password changes are frequent, and
# the catalog shows no account's data; its rows name an owner only by id, which never changes).
PRIVATE_TABLES = frozenset({"users"})


def _mark_written(session: OrmSession, tables: Iterable[str | None]) -> None:
    if any(table not in PRIVATE_TABLES for table in tables):
        session.info[_WRITTEN] = True


@event.listens_for(OrmSession, "after_flush")
def _flushed(session: OrmSession, _context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    _mark_written(session, (getattr(getattr(row, "__table__", None), "name", None) for row in changed))


@event.listens_for(OrmSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        _mark_written(state.session, (mapper.local_table.name if mapper is not None else None,))


@event.listens_for(OrmSession, "before_commit")
def _committing(session: OrmSession) -> None:
    if not has_app_context() or (cache := _cache()) is None:
        return
    session.flush()  # the commit would flush next: what it writes must count here
    if session.info.get(_WRITTEN):
        cache.bump_before_commit()


@event.listens_for(OrmSession, "after_commit")
def _committed(session: OrmSession) -> None:
    if session.info.pop(_WRITTEN, False) and has_app_context() and (cache := _cache()) is not None:
        cache.bump_after_commit()


@event.listens_for(OrmSession, "after_soft_rollback")
def _rolled_back(session: OrmSession, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_WRITTEN, None)
