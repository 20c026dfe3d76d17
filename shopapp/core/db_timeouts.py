"""Bounded waits on PostgreSQL: a database that stops answering costs a request seconds, never forever.

A server that is frozen (SIGSTOP, a hung host, a network path that drops packets) keeps its TCP
connections open: libpq would wait for an answer as long as the socket lives, and neither
``statement_timeout`` (the server must be running to apply it) nor TCP keepalives (the peer's kernel,
or a proxy's, still acknowledges them) end that wait. So every wait of the driver on an app connection
has a bound of its own, on the client side:

* connecting: ``connect_timeout`` (``DATABASE_TIMEOUT_S``; psycopg enforces at least 2 s);
* the pool's liveness check of a connection it hands out (``pool_pre_ping``): ``DATABASE_TIMEOUT_S``;
* any other round trip (a statement, a fetch, a commit): ``DATABASE_STATEMENT_TIMEOUT_MS`` plus one
  second, so that a slow statement on a running server is first cancelled by the server itself
  (``statement_timeout``, a clean ``QueryCanceled`` that leaves the connection usable).

A wait that runs out closes the connection and raises ``psycopg.OperationalError``; SQLAlchemy then
sees a disconnect and discards the pool's other connections (made to the same frozen server), and the
next request connects afresh: the app recovers on its own once the database answers again. The error
pages and the API turn these errors into 503 with ``Retry-After`` (``is_database_unavailable``).

Migrations (``migrations/env.py``) lift both bounds on their connection: building an index may take
minutes. ``bench/generate.py`` connects with psycopg directly and is not concerned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

RETRY_AFTER_S = 5
UNAVAILABLE_DETAIL = "The database is temporarily unavailable. Please try again in a few seconds."
# A shorter bound for the waits in this context (the pool's ping, the readiness probe).
_short_bound: ContextVar[float | None] = ContextVar("shopapp_db_short_bound", default=None)


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server ends after ``wait_bound_s`` seconds (None: never)."""

    wait_bound_s: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        bound = self.wait_bound_s
        if bound is not None and (short := _short_bound.get()) is not None:
            bound = min(bound, short)
        if timeout is not None or bound is None:
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=bound)
        except pg_errors._WaitTimeout:
            # The protocol is now out of step: the connection cannot be used again.
            self.close()
            raise psycopg.OperationalError(f"the database did not answer within {bound:g} s") from None


@contextmanager
def short_waits(seconds: float) -> Iterator[None]:
    token = _short_bound.set(seconds)
    try:
        yield
    finally:
        _short_bound.reset(token)


def unbound(dbapi_connection: Any) -> None:
    """Lift the client-side bound of one connection (migrations)."""
    if isinstance(dbapi_connection, BoundedConnection):
        dbapi_connection.wait_bound_s = None


def connect_args(config: dict[str, Any]) -> dict[str, Any]:
    """libpq parameters of the app's connections (``shopapp/__init__.py`` adds the planner settings)."""
    timeout_s = float(config["DATABASE_TIMEOUT_S"])
    statement_ms = int(config["DATABASE_STATEMENT_TIMEOUT_MS"])
    return {
        "connect_timeout": max(2, round(timeout_s)),
        # An idle pooled connection to a host that vanished is found out within 5 + 3 * 2 s by the kernel,
        # and data left unacknowledged (a partition) fails the connection after 10 s, whatever the bounds above.
        # 10 s only counts time without any acknowledgement from the peer, never the time a query takes.
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 10_000,
        "options": f"-c statement_timeout={statement_ms}",
    }


def bound_engine(engine: Engine, config: dict[str, Any]) -> None:
    """Make ``engine`` connect with ``BoundedConnection`` and bound its pool's pings."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    timeout_s = float(config["DATABASE_TIMEOUT_S"])
    statement_ms = int(config["DATABASE_STATEMENT_TIMEOUT_MS"])
    bound = statement_ms / 1000 + 1.0 if statement_ms > 0 else None

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.wait_bound_s = bound if bound is not None else timeout_s * 3
        return connection

    dialect = engine.dialect
    ping: Callable[[Any], bool] = dialect.do_ping

    @functools.wraps(ping)
    def bounded_ping(dbapi_connection: Any) -> bool:
        with short_waits(timeout_s):
            return ping(dbapi_connection)

    dialect.do_ping = bounded_ping  # type: ignore[method-assign]


def is_database_unavailable(error: BaseException) -> bool:
    """The database could not be reached, did not answer in time, or cancelled a statement that ran too long."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection free within pool_timeout
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, sa_exc.OperationalError):
            return True
        error = error.orig if error.orig is not None else error
    # OperationalError covers refused and lost connections, client-side timeouts and QueryCanceled.
    return isinstance(error, psycopg.OperationalError)


def unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)}
