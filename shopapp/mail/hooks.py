"""The embedded default: without ``MAIL_URL``, the mails a transaction queued are written to the log right
after it commits, by the process that committed, so ``make run`` needs no worker.

After the commit, never inside it: the mails' ids are noted when they are flushed, dropped if the transaction
rolls back, and delivered in a session of their own once the commit is done. With ``MAIL_URL`` set nothing
happens here: a request never talks to an SMTP server, ``flask mail-worker`` does.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from shopapp.extensions import db
from shopapp.mail.delivery import EXTENSION, LogTransport, MailSettings, deliver_batch
from shopapp.mail.models import OutboxMail

log = logging.getLogger("shopapp.mail")
_QUEUED = "shopapp.mail.queued"


def _settings() -> MailSettings | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def _flushed(session: Session, _context: Any) -> None:
    ids = [row.id for row in session.new if isinstance(row, OutboxMail)]
    if ids and (mail := _settings()) is not None and mail.server is None:
        session.info.setdefault(_QUEUED, []).extend(ids)


def _committed(session: Session) -> None:
    ids = session.info.pop(_QUEUED, None)
    if not ids or (mail := _settings()) is None:
        return
    try:
        with Session(bind=db.engine) as own:
            deliver_batch(own, mail, LogTransport(), limit=len(ids), ids=ids)
    except Exception:  # the commit is done: the request must not fail now (`flask mail-worker --once` retries)
        log.exception("writing mails %s to the log failed; they stay pending", ids)


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (then popped already) or rolled back: forget the ids
        session.info.pop(_QUEUED, None)


_LISTENERS = (("after_flush", _flushed), ("after_commit", _committed), ("after_transaction_end", _ended))


def listen_for_queued_mail() -> None:
    """Watch every session (once per process)."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
