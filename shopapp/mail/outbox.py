"""Queue a mail in the current transaction: it is delivered only if that transaction commits."""

from __future__ import annotations

from typing import Any

from flask import render_template

from shopapp.extensions import db
from shopapp.mail.models import OutboxMail


def queue(recipient: str, subject: str, template: str, **context: Any) -> OutboxMail:
    """Render ``templates/mail/<template>.txt`` and ``.html`` with ``context`` and add the message to the
    session; the caller's commit is what sends it (see ``shopapp/mail/delivery.py``)."""
    mail = OutboxMail(
        recipient=recipient,
        subject=subject,
        text_body=render_template(f"mail/{template}.txt", **context),
        html_body=render_template(f"mail/{template}.html", **context),
    )
    db.session.add(mail)
    return mail
