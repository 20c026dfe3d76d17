"""``flask mail-worker``: deliver the outbox, in a loop or (``--once``) until nothing is due.

Run one or more next to the app servers in production (docs/mail.md); they share the outbox safely. SIGTERM
or Ctrl+C lets the mail being sent finish, then the worker exits with status 0. A database that goes away
is waited for, not a reason to exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import click
from sqlalchemy.exc import SQLAlchemyError

from shopapp.extensions import db
from shopapp.mail.delivery import BATCH, Outcome, deliver_batch, drain, settings

log = logging.getLogger("shopapp.mail")


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs (the handlers before it are put back after)."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("mail-worker")
@click.option("--once", is_flag=True, help="Deliver every mail that is due, then exit.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the outbox when it has nothing due.",
)
@click.option("--batch", type=click.IntRange(min=1, max=1000), default=BATCH, show_default=True)
def mail_worker_command(once: bool, poll_interval: float, batch: int) -> None:
    """Send the queued mails (over MAIL_URL's SMTP server, or to the log without it), retrying failures."""
    mail = settings()
    where = mail.transport().where
    if once:
        outcome = drain(db.session(), mail, limit=batch)
        click.echo(f"mail-worker: {outcome}; through {where}.")
        return
    click.echo(f"mail-worker: delivering through {where}, looking every {poll_interval:g} s; SIGTERM stops.")
    total = Outcome()
    transport = mail.transport()
    with stop_on_signals() as stop:
        while not stop.is_set():
            try:
                outcome = deliver_batch(db.session(), mail, transport, limit=batch)
            except SQLAlchemyError as exc:
                with suppress(SQLAlchemyError):
                    db.session.rollback()
                log.warning("mail-worker: the database is unavailable (%s); trying again", exc.__class__.__name__)
                stop.wait(max(poll_interval, 1.0))
                continue
            total.add(outcome)
            if outcome.claimed < batch or outcome.server_down:
                transport.close()  # no connection held open while idle
                stop.wait(poll_interval)
    transport.close()
    click.echo(f"mail-worker: stopped; {total}.")
