"""Every committed transaction that wrote through the app's session ends the stored copies.

The generation is bumped before the commit (so no process serves an old copy once the commit is
visible, even through a Redis write stall: ``SharedCache.bump_before_commit``) and after it (for copies
a reader made from the old rows in between). Writes to tables no cached answer reads do not count:
accounts (registrations, logouts and password changes are frequent, and the catalog shows no account's
data; its rows name an owner only by id, which never changes), the mail outbox, and carts and orders (no cached
answer shows one; a checkout still ends the copies, as it changes products' stock). Writes to accounts and
carts end every visitor's kept personal parts instead (``VISITOR_TABLES``: the header's account menu and cart
count), bumped the same way; a catalog write ends those too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

from shopapp.core.cache.store import EXTENSION, SharedCache

PRIVATE_TABLES = frozenset(
    {
        "users",
        "mail_outbox",
        # Carts and orders: no cached answer shows them (a checkout still counts: it takes products' stock).
        "carts",
        "cart_items",
        "checkouts",
        "orders",
        "order_items",
        "order_events",
        "saved_addresses",
    }
)
# What the layout's personal parts read (the session's user, the cart's count).
VISITOR_TABLES = frozenset({"users", "carts", "cart_items"})
_WRITTEN = "shopapp.cache.written"  # True: a table a cached answer reads; False: only a visitor's parts


def _cache() -> SharedCache | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def _mark_written(session: OrmSession, tables: Iterable[str | None]) -> None:
    for table in tables:
        if table not in PRIVATE_TABLES:
            session.info[_WRITTEN] = True
            return
        if table in VISITOR_TABLES:
            session.info.setdefault(_WRITTEN, False)


def _flushed(session: OrmSession, _context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    _mark_written(session, (getattr(getattr(row, "__table__", None), "name", None) for row in changed))


def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        _mark_written(state.session, (getattr(mapper.local_table, "name", None) if mapper is not None else None,))


def _committing(session: OrmSession) -> None:
    if (cache := _cache()) is None:
        return
    session.flush()  # the commit would flush next: what it writes must count here
    if (catalog := session.info.get(_WRITTEN)) is not None:
        cache.bump_before_commit(catalog=catalog)


def _committed(session: OrmSession) -> None:
    if (catalog := session.info.pop(_WRITTEN, None)) is not None and (cache := _cache()) is not None:
        cache.bump_after_commit(catalog=catalog)


def _rolled_back(session: OrmSession, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_WRITTEN, None)


_LISTENERS = (
    ("after_flush", _flushed),
    ("do_orm_execute", _executed),
    ("before_commit", _committing),
    ("after_commit", _committed),
    ("after_soft_rollback", _rolled_back),
)


def listen_for_writes() -> None:
    """Watch every session (once per process, whichever app turns the cache on first)."""
    for name, listener in _LISTENERS:
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)
