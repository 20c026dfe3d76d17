"""Mail: messages are queued in the database in the transaction that causes them (an outbox) and delivered
after the commit, so a mail server that is down never fails or slows the request, and no mail is lost.

With ``MAIL_URL`` set, ``flask mail-worker`` delivers them over SMTP (``shopapp/mail/delivery.py``); without
it (the embedded default) the mails a transaction queued are written to the log right after its commit, in
the process that committed, as its request or command ends (``shopapp/mail/hooks.py``). See docs/mail.md.
"""

from __future__ import annotations

from flask import Flask

from shopapp.mail.outbox import queue

__all__ = ["init_mail", "queue"]


def init_mail(app: Flask) -> None:
    from shopapp.mail import models  # noqa: F401  the outbox's table
    from shopapp.mail.delivery import EXTENSION, MailSettings
    from shopapp.mail.hooks import listen_for_queued_mail
    from shopapp.mail.worker import mail_worker_command

    app.extensions[EXTENSION] = mail = MailSettings.from_config(app)
    if mail.server is None and app.config["APP_ENV"] == "production":
        app.logger.warning("MAIL_URL is not set: mails are written to the log, not sent (docs/mail.md)")
    listen_for_queued_mail(app)
    app.cli.add_command(mail_worker_command)
