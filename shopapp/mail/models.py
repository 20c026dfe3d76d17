from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopapp.core.db import Model, UTCDateTime, utcnow

PENDING = "pending"
SENT = "sent"
# Given up on after every retry (a recipient the server refuses for good); kept for an operator to see.
FAILED = "failed"
MAIL_STATUSES = (PENDING, SENT, FAILED)


class OutboxMail(Model):
    """One message to one recipient, rendered when it was queued."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, server_default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the next delivery attempt is due (retries back off).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The worker's question: which pending mails are due, oldest first.
Index("ix_mail_outbox_due", OutboxMail.status, OutboxMail.next_attempt_at, OutboxMail.id)
