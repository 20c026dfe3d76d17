"""A real SMTP server (aiosmtpd) on a free port, and apps that queue mails with a template of the tests' own.

``smtp``: the server, which a test may stop and start again on the same port (an outage), tell to refuse a
recipient or a message, or slow down. ``mail_app(**config)``: an app whose ``POST /_test/mail`` queues the
mails of its JSON body (``templates/mail/test_note.*`` here) and commits, as a checkout would.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import select, update

from shopapp.core.db import utcnow
from shopapp.extensions import csrf, db
from shopapp.mail import queue
from shopapp.mail.delivery import Outcome, drain, settings
from shopapp.mail.models import OutboxMail
from tests.conftest import base_config
from tests.ops.serve import free_port

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover - a dev dependency (pyproject.toml); under CI its absence fails
    Controller = None

HERE = Path(__file__).resolve().parent


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> the reply, e.g. "550 5.1.1 no such user"
    refuse_data: list[str] = field(default_factory=list)  # replies to the next DATA commands, e.g. "451 later"
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        with self.lock:
            if self.refuse_data:
                return self.refuse_data.pop(0)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, **options: Any) -> None:
        self.port = free_port()
        self.handler = Handler()
        self.options = options  # aiosmtpd's, e.g. auth_required=True and an authenticator
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


@pytest.fixture
def make_smtp() -> Iterator[Callable[..., SmtpServer]]:
    """``make_smtp(**aiosmtpd_options)``: a started server of the test's own, stopped at the end."""
    if Controller is None:
        pytest.skip("aiosmtpd is not installed (make setup-dev)")
    servers: list[SmtpServer] = []

    def make(**options: Any) -> SmtpServer:
        server = SmtpServer(**options)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def smtp(make_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return make_smtp()


@pytest.fixture
def mail_app(make_app, database_url: str, tmp_path: Path) -> Callable[..., Flask]:  # type: ignore[no-untyped-def]
    """``mail_app(**config)``: an app with these settings and ``POST /_test/mail`` (CSRF-exempt)."""

    def make(**config: Any) -> Flask:
        app = make_app(base_config(database_url, tmp_path, **config))
        app.jinja_loader = ChoiceLoader([FileSystemLoader(HERE / "templates"), app.jinja_loader])  # type: ignore[assignment,list-item]

        @app.post("/_test/mail")
        @csrf.exempt
        def queue_mails():  # type: ignore[no-untyped-def]
            mails = [
                queue(
                    m["to"], m.get("subject", "A note"), "test_note", name=m.get("name", "Ada"), note=m.get("note", "")
                )
                for m in request.get_json()
            ]
            db.session.commit()
            return jsonify([mail.id for mail in mails]), 201

        return app

    return make


def queue_mails(app: Flask, *mails: dict[str, str]) -> list[int]:
    """Queue ``mails`` through a request (one transaction) and return their ids."""
    response = app.test_client().post("/_test/mail", json=list(mails))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def deliver(app: Flask, **kwargs: Any) -> Outcome:
    """What one ``flask mail-worker --once`` does: deliver until nothing is due."""
    with app.app_context():
        return drain(db.session(), settings(app), **kwargs)


def make_due(app: Flask) -> None:
    """Time passes: every pending mail's next attempt is due now."""
    with app.app_context():
        db.session.execute(
            update(OutboxMail).where(OutboxMail.status == "pending").values(next_attempt_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()


def outbox(app: Flask) -> list[OutboxMail]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        db.session.expunge_all()
        return rows


@pytest.fixture
def mail_log() -> Iterator[list[str]]:
    """The messages of the ``shopapp.mail`` logger during the test."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    keep = Keep()
    logger = logging.getLogger("shopapp.mail")
    logger.addHandler(keep)
    yield lines
    logger.removeHandler(keep)
