"""Delivery of the outbox: claim the mails that are due, send them, record what happened.

Several workers may drain one outbox. A worker claims a batch in one statement that pushes the mails'
``next_attempt_at`` a lease into the future and commits before anything is sent: no other worker sees them
due until the lease ends (on PostgreSQL the claim's ``FOR UPDATE SKIP LOCKED`` also lets concurrent claims
pass each other instead of queueing; SQLite runs one writer at a time). Each mail is then sent and its
outcome committed on its own.

Delivery is at least once. The crash window: a worker that dies after the server took a mail and before its
"sent" is committed leaves it pending, and it is sent again once the lease is over; its ``Message-ID`` is the
same both times (it is made from the row), so the duplicate can be recognised. A worker that dies before
sending only delays its batch by the lease. No mail is ever lost: a failure is recorded (``attempts``,
``last_error``) and retried with exponential backoff, for as long as it takes, except a mail the server
refuses for good (a 5xx answer to its recipient or content) ``PERMANENT_ATTEMPTS`` times, or whose recipient
is no single address, which ends ``failed``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopapp.config import MailServer, check_mail_from, parse_mail_url, sender_address
from shopapp.core.db import utcnow
from shopapp.mail.models import FAILED, PENDING, SENT, OutboxMail
from shopapp.mail.transports import DeliveryError, LogTransport, SmtpTransport, Transport

log = logging.getLogger("shopapp.mail")
EXTENSION = "shopapp.mail"
BATCH = 20
# A server's 5xx for a mail is believed after this many attempts (some servers answer 5xx for a moment).
PERMANENT_ATTEMPTS = 3
_ADDR_SPEC = re.compile(r"[^\s@<>()\[\],;:\\\"]+@[^\s@<>()\[\],;:\\\"]+")


class Mail(Protocol):
    """What a message is built from: an ``OutboxMail`` or a claimed row."""

    @property
    def id(self) -> int: ...
    @property
    def recipient(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text_body(self) -> str: ...
    @property
    def html_body(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class ClaimedMail:
    id: int
    recipient: str
    subject: str
    text_body: str
    html_body: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class MailSettings:
    server: MailServer | None  # None: the log transport (no MAIL_URL)
    sender: str  # the From header, MAIL_FROM as written
    envelope_sender: str  # its address alone (SMTP's MAIL FROM)
    timeout: float
    retry_base: float
    retry_max: float

    @classmethod
    def from_config(cls, config: dict[str, object] | Flask) -> MailSettings:
        values = config.config if isinstance(config, Flask) else config
        sender = check_mail_from(str(values.get("MAIL_FROM") or ""))
        return cls(
            server=parse_mail_url(str(values.get("MAIL_URL") or "")),
            sender=sender,
            envelope_sender=sender_address(sender) or "",
            timeout=float(values["MAIL_TIMEOUT_S"]),  # type: ignore[arg-type]
            retry_base=float(values["MAIL_RETRY_BASE_S"]),  # type: ignore[arg-type]
            retry_max=float(values["MAIL_RETRY_MAX_S"]),  # type: ignore[arg-type]
        )

    def transport(self) -> Transport:
        return LogTransport() if self.server is None else SmtpTransport(self.server, self.timeout)

    def lease(self, batch: int) -> timedelta:
        """How long a claimed batch stays invisible to other workers: longer than sending it can take."""
        return timedelta(seconds=60 + self.timeout * 3 * (batch + 1))

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt after ``attempts`` failed ones: base, then doubling, at most the cap."""
        return timedelta(seconds=min(self.retry_base * 2 ** min(attempts - 1, 40), self.retry_max))


def settings(app: Flask | None = None) -> MailSettings:
    return (app or current_app).extensions[EXTENSION]


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    server_down: bool = False  # the last batch found the server away (or refusing everything)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: Outcome) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.server_down = other.server_down

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"


def one_line(text: str) -> str:
    """Header text with every line break and control character turned into a space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def single_address(recipient: str) -> Address:
    """``recipient`` as one address, or ValueError: nothing a header or an envelope could read as more."""
    if recipient != recipient.strip() or not _ADDR_SPEC.fullmatch(recipient):
        raise ValueError("the recipient is not one mail address")
    try:
        address = Address(addr_spec=recipient)
    except (MessageError, IndexError, ValueError) as exc:
        raise ValueError("the recipient is not one mail address") from exc
    if address.addr_spec != recipient:
        raise ValueError("the recipient is not one mail address")
    return address


def message_id(mail: Mail, sender: str) -> str:
    """The same for every attempt at one mail, and for no other mail (the row's id and its creation time)."""
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or "localhost"
    stamp = hashlib.sha256(f"{mail.id}:{mail.created_at.isoformat()}".encode()).hexdigest()[:16]
    return f"<shopapp.{mail.id}.{stamp}@{domain}>"


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """A multipart/alternative message (the text part, then the HTML one) from ``sender`` to the mail's one
    recipient. Header values are set through the email package's policy, which refuses line breaks; the
    subject has them turned into spaces and the recipient must be one address (ValueError otherwise)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = single_address(mail.recipient)
    message["Subject"] = one_line(mail.subject)
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = message_id(mail, sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    return message


def claim(session: Session, limit: int, lease: timedelta, ids: Iterable[int] | None = None) -> list[ClaimedMail]:
    """Take up to ``limit`` due pending mails (only those of ``ids``, if given) for one lease and commit.

    What is returned are plain values: nothing is loaded again, and no transaction is open, while sending."""
    now = utcnow()
    due = (
        select(OutboxMail.id)
        .where(OutboxMail.status == PENDING, OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(limit)
    )
    if ids is not None:
        due = due.where(OutboxMail.id.in_(list(ids)))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    columns = [getattr(OutboxMail, name) for name in ClaimedMail.__dataclass_fields__]
    # One statement: the claimed rows' values come back with the claim (RETURNING), nothing is read again.
    rows = session.execute(
        update(OutboxMail)
        .where(OutboxMail.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + lease)
        .returning(*columns),
        execution_options={"synchronize_session": False},
    ).all()
    session.commit()
    return sorted((ClaimedMail(*row) for row in rows), key=lambda mail: mail.id)


def _record(session: Session, mail: ClaimedMail, **values: object) -> None:
    """Write an outcome, only over a mail still pending (another worker may have taken it after the lease)."""
    session.execute(
        update(OutboxMail).where(OutboxMail.id == mail.id, OutboxMail.status == PENDING).values(**values),
        execution_options={"synchronize_session": False},
    )
    session.commit()


def deliver_batch(
    session: Session,
    mail_settings: MailSettings,
    transport: Transport,
    *,
    limit: int = BATCH,
    ids: Iterable[int] | None = None,
    together: bool = False,
) -> Outcome:
    """Claim one batch and try each of its mails once.

    ``together``: the mails sent are recorded in one statement at the end of the batch rather than each as it
    goes (for the log transport after a request, whose "sending" cannot be half done; an SMTP worker records
    each one at once, so that a crash sends as few twice as possible)."""
    outcome = Outcome()
    mails = claim(session, limit, mail_settings.lease(limit), ids)
    server_away: DeliveryError | None = None
    # Written to a log that drops INFO, a message would be built for nothing: its recipient is still checked.
    quiet = isinstance(transport, LogTransport) and not log.isEnabledFor(logging.INFO)
    sent: list[int] = []
    for mail in mails:
        attempts = mail.attempts + 1
        error, hopeless = server_away, False
        if error is None:
            try:
                if quiet:
                    single_address(mail.recipient)
                else:
                    message = build_message(mail, mail_settings.sender)
                    transport.send(message, mail_settings.envelope_sender, mail.recipient)
            except ValueError as exc:  # no single recipient: no attempt can succeed
                error, hopeless = DeliveryError(str(exc), permanent=True), True
            except DeliveryError as exc:
                error = exc
                if exc.server_down:
                    server_away = exc  # the rest of the batch would wait for the same server: not now
        if error is None:
            if together:
                sent.append(mail.id)
            else:
                _record(session, mail, status=SENT, sent_at=utcnow(), attempts=attempts, last_error="")
            outcome.sent += 1
            log.info("mail %s sent (attempt %s)", mail.id, attempts)
        elif hopeless or (error.permanent and attempts >= PERMANENT_ATTEMPTS):
            _record(session, mail, status=FAILED, attempts=attempts, last_error=str(error))
            outcome.failed += 1
            log.warning("mail %s failed for good after %s attempts: %s", mail.id, attempts, error)
        else:
            retry_at = utcnow() + mail_settings.backoff(attempts)
            _record(session, mail, attempts=attempts, last_error=str(error), next_attempt_at=retry_at)
            outcome.retrying += 1
            log.warning("mail %s not sent (attempt %s), retrying at %s: %s", mail.id, attempts, retry_at, error)
    if sent:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(sent), OutboxMail.status == PENDING)
            .values(status=SENT, sent_at=utcnow(), attempts=OutboxMail.attempts + 1, last_error=""),
            execution_options={"synchronize_session": False},
        )
        session.commit()
    outcome.server_down = server_away is not None
    return outcome


def drain(session: Session, mail_settings: MailSettings, *, limit: int = BATCH) -> Outcome:
    """Deliver batches until no mail is due (a mail that failed is due again only after its backoff)."""
    total = Outcome()
    transport = mail_settings.transport()
    try:
        while True:
            outcome = deliver_batch(session, mail_settings, transport, limit=limit)
            total.add(outcome)
            if outcome.claimed < limit or outcome.server_down:
                return total
    finally:
        transport.close()
