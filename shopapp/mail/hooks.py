"""The embedded default: without ``MAIL_URL``, the mails a transaction queued are written to the log once it
has committed, by the process that committed, so ``make run`` needs no worker.

After the commit, never inside it: the mails' ids are noted when they are flushed, dropped if the transaction
rolls back, handed to the app context when it commits, and delivered in a session of their own when that
context ends (a request's, once its response is made; a command's, when it is done). The request's own session
has given its connection back by then, so delivery never holds two at once. With ``MAIL_URL`` set nothing
happens here: a request never talks to an SMTP server, ``flask mail-worker`` does.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from shopapp.extensions import db
from shopapp.mail.delivery import EXTENSION, LogTransport, MailSettings, deliver_batch
from shopapp.mail.models import OutboxMail

log = logging.getLogger("shopapp.mail")
_QUEUED = "shopapp.mail.queued"  # in a session's info: the ids its transaction flushed
_COMMITTED = "shopapp_mail_committed"  # in ``g``: the ids committed in this app context, to deliver at its end


def _embedded() -> bool:
    mail: MailSettings | None = current_app.extensions.get(EXTENSION) if has_app_context() else None
    return mail is not None and mail.server is None


def _flushed(session: Session, _context: Any) -> None:
    ids = [row.id for row in session.new if isinstance(row, OutboxMail)]
    if ids and _embedded():
        session.info.setdefault(_QUEUED, []).extend(ids)


def _committed(session: Session) -> None:
    ids = session.info.pop(_QUEUED, None)
    if ids and _embedded():
        g.setdefault(_COMMITTED, []).extend(ids)


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (then handed on already) or rolled back: forget the ids
        session.info.pop(_QUEUED, None)


def deliver_committed(_error: BaseException | None = None) -> None:
    """At the end of an app context: write the mails its commits queued to the log."""
    ids = g.pop(_COMMITTED, None)
    if not ids:
        return
    db.session.remove()  # the context is ending: give its connection back first
    try:
        with Session(bind=db.engine) as own:
            mail = current_app.extensions[EXTENSION]
            deliver_batch(own, mail, LogTransport(), limit=len(ids), ids=ids, together=True)
    except Exception:  # the commit is done and must stand (`flask mail-worker --once` finishes these)
        log.exception("writing mails %s to the log failed; they stay pending", ids)


_LISTENERS = (("after_flush", _flushed), ("after_commit", _committed), ("after_transaction_end", _ended))


def listen_for_queued_mail(app: Flask) -> None:
    """Watch every session (the listeners once per process) and deliver at the end of each app context."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    app.teardown_appcontext(deliver_committed)
