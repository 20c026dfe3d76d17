"""How a built message leaves the app: over SMTP (``MAIL_URL``) or into the log (the embedded default).

A transport raises :class:`DeliveryError` for every failure, saying whether the server refused this mail for
good (a 5xx answer to its recipient or its content: retrying will not help) and whether the server itself is
away or refusing everything (then the other mails of the batch need not try now).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import NoReturn, Protocol

from shopapp.config import MailServer

log = logging.getLogger("shopapp.mail")
MAX_ERROR_CHARS = 1000


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, server_down: bool = False) -> None:
        super().__init__(message[:MAX_ERROR_CHARS])
        self.permanent = permanent
        self.server_down = server_down


class Transport(Protocol):
    @property
    def where(self) -> str: ...

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None: ...

    def close(self) -> None: ...


class LogTransport:
    """Writes each mail, headers and text part, to the app log (``shopapp.mail``, level INFO)."""

    where = "the log (MAIL_URL is not set)"

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        text = message.get_body(("plain",))
        body = text.get_content() if text is not None else ""
        log.info(
            "mail (MAIL_URL is not set: written here, not sent) to=%s subject=%r message_id=%s\n%s",
            recipient,
            str(message["Subject"]),
            message["Message-ID"],
            body.rstrip("\n"),
        )

    def close(self) -> None:
        pass


def _reply(code: int, text: bytes | str) -> str:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(detail.split())}"


class SmtpTransport:
    """smtplib, one connection reused for the mails of a batch; every wait bounded by ``timeout`` seconds."""

    def __init__(self, server: MailServer, timeout: float) -> None:
        self.server = server
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None
        self._context: ssl.SSLContext | None = None  # made once, when TLS is used (loading the CAs takes 0.1 s)

    @property
    def where(self) -> str:
        return f"{'smtps' if self.server.tls else 'smtp'}://{self.server.host}:{self.server.port}"

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        connection: smtplib.SMTP
        if server.tls:
            connection = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=self._tls())
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if server.starttls:
                connection.starttls(context=self._tls())
            if server.username:
                connection.login(server.username, server.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        if self._connection is not None:
            try:
                self._connection.send_message(message, from_addr=sender, to_addrs=[recipient])
                return
            except smtplib.SMTPServerDisconnected:
                self.close()  # a reused connection the server closed while idle: once more on a new one
            except Exception as exc:
                self._raise(exc)
        try:
            self._connection = self._connect()
            self._connection.send_message(message, from_addr=sender, to_addrs=[recipient])
        except Exception as exc:
            self._raise(exc)

    def _raise(self, error: Exception) -> NoReturn:
        raise self._explain(error) from error

    def _explain(self, error: Exception) -> DeliveryError:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(error.recipients.values()), (0, b"refused"))
            return DeliveryError(f"recipient refused: {_reply(code, text)}", permanent=500 <= code < 600)
        if isinstance(error, smtplib.SMTPDataError):
            reply = _reply(error.smtp_code, error.smtp_error)
            return DeliveryError(f"message refused: {reply}", permanent=500 <= error.smtp_code < 600)
        if isinstance(error, smtplib.SMTPSenderRefused):
            # MAIL_FROM refused: every mail would be, and an operator can fix it; never a reason to give up.
            return DeliveryError(f"sender refused: {_reply(error.smtp_code, error.smtp_error)}", server_down=True)
        if isinstance(error, smtplib.SMTPNotSupportedError) and self._connection is not None:
            # Connected, and this mail needs what the server lacks (SMTPUTF8, for an address beyond ASCII).
            return DeliveryError(f"{self.where}: {error}", permanent=True)
        self.close()
        if isinstance(error, smtplib.SMTPResponseException):  # a refused login, a 4xx/5xx greeting
            return DeliveryError(f"{self.where}: {_reply(error.smtp_code, error.smtp_error)}", server_down=True)
        # Refused, reset or timed out, TLS failed, no STARTTLS: the server is away for every mail.
        away = isinstance(error, smtplib.SMTPException | OSError)
        return DeliveryError(f"{self.where}: {type(error).__name__}: {error}", server_down=away)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
