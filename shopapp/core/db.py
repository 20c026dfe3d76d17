"""The database: Flask-SQLAlchemy's ``db``, its session and declarative base, column types and mixins."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import ColumnElement, DateTime, Integer, MetaData, Numeric, and_, event, func
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from shopapp.core.errors import DomainError

# Named constraints: Alembic can then alter them on SQLite (batch mode) and drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __repr__(self) -> str:
        ident = getattr(self, "id", None)
        label = getattr(self, "email", None) or getattr(self, "name", None)
        return f"<{type(self).__name__} {ident} {label!r}>"


# Requests that never write: every commit of the app is in a POST (or PUT, PATCH, DELETE) handler.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_autocommit_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


class Session(FlaskSession):
    """The app's session: on PostgreSQL, a request that only reads runs its statements in autocommit.

    A transaction costs two round trips more per request (``BEGIN``, and ``ROLLBACK`` at the end),
    for a page that sends one to three queries that was a third of its time under load; a read does
    not need one (its count and its page may see different commits, like two requests would). The
    autocommit engine shares the pool of the app's engine; SQLAlchemy resets a connection's
    isolation on its way back to the pool. SQLite has no round trips to save and keeps transactions.
    """

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Engine | Connection | None = None, **kwargs: Any
    ) -> Engine | Connection:
        engine = super().get_bind(mapper, clause, bind, **kwargs)
        if (
            bind is None
            and isinstance(engine, Engine)
            and engine.dialect.name == "postgresql"
            and has_request_context()
            and request.method in SAFE_METHODS
        ):
            if engine not in _autocommit_engines:
                _autocommit_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
            return _autocommit_engines[engine]
        return engine


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
# The models' base: Flask-SQLAlchemy's ``db.Model`` (table names, ``db.session`` binding) is built at run
# time from ``Base``, which is what a type checker can read.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


@contextmanager
def integrity_as(error: DomainError, by_constraint: Mapping[str, DomainError] | None = None) -> Iterator[None]:
    """Flush inside a savepoint and report a constraint violation as ``error`` (or, for a constraint named in
    ``by_constraint``, as its own error: both databases name the violated index in the message).

    The savepoint keeps the outer transaction usable, so a request that hits a
    duplicate can still render a form or a problem document.
    """
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as exc:
        found = str(exc.orig)
        raise next((e for name, e in (by_constraint or {}).items() if name in found), error) from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on PostgreSQL and on SQLite (which stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """An exact amount with two fraction digits: NUMERIC(12, 2) on PostgreSQL, integer cents on SQLite.

    SQLite has no decimal type (NUMERIC columns hold floats), so there the amount is
    stored as a whole number of cents; comparisons and sorts stay exact on both.
    """

    impl = Numeric(12, 2)
    cache_ok = True
    _CENT = Decimal("0.01")

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(Integer() if dialect.name == "sqlite" else Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(self._CENT)
        return int(amount * 100) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(self._CENT)
        return Decimal(value).quantize(self._CENT)


# What an owner lists their shops or products by: live and shown, live and hidden, soft-deleted.
STATUSES = ("active", "inactive", "deleted")


def by_status(model: Any, status: str | None) -> ColumnElement[bool]:
    """The rows of ``model`` (with ``is_active`` and ``deleted_at``) in ``status``, one of ``STATUSES``;
    ``None`` is every row that is not deleted."""
    if status == "deleted":
        return model.deleted_at.is_not(None)
    live = model.deleted_at.is_(None)
    return live if status is None else and_(live, model.is_active == (status == "active"))


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite enforces foreign keys only when asked, on every connection."""
    module = type(dbapi_connection).__module__
    if module.startswith(("sqlite3", "pysqlite")):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def compare_type(
    context: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Alembic hook: ``Money`` is NUMERIC(12, 2) in the DDL on both databases, whatever it binds."""
    if isinstance(metadata_type, Money):
        return not (isinstance(inspected_type, Numeric) and (inspected_type.precision, inspected_type.scale) == (12, 2))
    return None  # Alembic's own comparison
