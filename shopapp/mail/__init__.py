"""Mail: messages are queued in the database in the transaction that causes them (an outbox) and delivered
after the commit, so a mail server that is down never fails or slows the request, and no mail is lost."""

from shopapp.mail.outbox import queue

__all__ = ["queue"]
