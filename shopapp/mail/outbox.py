"""Queue a mail in the current transaction: it is delivered only if that transaction commits."""

from __future__ import annotations

from typing import Any

from flask import render_template

from shopapp.extensions import db
from shopapp.mail.delivery import one_line
from shopapp.mail.models import OutboxMail

SUBJECT_CHARS = 300  # the columns' lengths
RECIPIENT_CHARS = 254


def queue(recipient: str, subject: str, template: str, **context: Any) -> OutboxMail:
    """Render ``templates/mail/<template>.txt`` and ``.html`` with ``context`` (and ``subject``) and add the
    message to the session; the caller's commit is what sends it (see ``shopapp/mail/delivery.py``).

    The subject is made one line (line breaks and control characters become spaces) and cut to fit. A
    recipient that is not one mail address is kept as given: its mail ends ``failed`` without being sent. One
    longer than any address may be (254 characters) is a ValueError: cut, it could name someone else.
    """
    recipient = recipient.strip()
    if len(recipient) > RECIPIENT_CHARS:
        raise ValueError(f"a mail recipient has at most {RECIPIENT_CHARS} characters")
    subject = one_line(subject)[:SUBJECT_CHARS]
    values = {"subject": subject, **context}
    mail = OutboxMail(
        recipient=recipient,
        subject=subject,
        text_body=render_template(f"mail/{template}.txt", **values),
        html_body=render_template(f"mail/{template}.html", **values),
    )
    db.session.add(mail)
    return mail
