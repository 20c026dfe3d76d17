"""Delivery over SMTP to a real server (aiosmtpd): the message, an outage, retries, refusals, header injection."""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta

import pytest

from shopapp.core.db import utcnow
from shopapp.extensions import db
from shopapp.mail import queue
from shopapp.mail.delivery import PERMANENT_ATTEMPTS, MailSettings, claim, settings
from tests.mail.conftest import deliver, make_due, outbox, queue_mails

SENDER = "ShopApp Orders <orders@shop.example>"


@pytest.fixture
def app(mail_app, smtp):  # type: ignore[no-untyped-def]
    return mail_app(MAIL_URL=smtp.url, MAIL_FROM=SENDER, MAIL_TIMEOUT_S=2, MAIL_RETRY_BASE_S=30, MAIL_RETRY_MAX_S=600)


def test_a_mail_reaches_the_server_as_text_and_html_after_the_commit(app, smtp):
    [mail_id] = queue_mails(
        app, {"to": "ada@example.com", "subject": "Votre commande · ✓", "name": "Zoë", "note": "<b>3 mugs €</b> & co"}
    )
    # The request only queued it: with MAIL_URL set, requests never talk to the SMTP server.
    assert smtp.received == []
    assert [m.status for m in outbox(app)] == ["pending"]

    assert (deliver(app).sent, deliver(app).sent) == (1, 0)
    [received] = smtp.received
    assert received.mail_from == "orders@shop.example" and received.rcpt_tos == ["ada@example.com"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == SENDER and message["To"] == "ada@example.com"
    assert message["Subject"] == "Votre commande · ✓"
    assert message["Date"]
    assert re.fullmatch(rf"<shopapp\.{mail_id}\.[0-9a-f]{{16}}@shop\.example>", message["Message-ID"])
    text, html = message.get_payload()  # type: ignore[misc]
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert "Hello Zoë," in text.get_content() and "<b>3 mugs €</b> & co" in text.get_content()
    assert "Hello Zoë," in html.get_content() and "&lt;b&gt;3 mugs €&lt;/b&gt; &amp; co" in html.get_content()
    assert "ShopApp" in text.get_content().split("-- ")[-1] and "ShopApp" in html.get_content()

    [row] = outbox(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None


def test_a_rolled_back_transaction_sends_nothing(app, smtp):
    with app.test_request_context(method="POST"):
        queue("ada@example.com", "Never", "test_note", name="Ada", note="rolled back")
        db.session.rollback()
    assert deliver(app).claimed == 0 and outbox(app) == [] and smtp.received == []


def test_an_outage_delays_mails_and_loses_none(app, smtp):
    smtp.stop()
    queue_mails(app, *({"to": f"buyer{n}@example.com"} for n in range(3)))  # the request succeeds
    outcome = deliver(app)
    assert (outcome.sent, outcome.retrying, outcome.server_down) == (0, 3, True)
    for row in outbox(app):
        assert row.status == "pending" and row.attempts == 1
        assert "ConnectionRefusedError" in row.last_error and f":{smtp.port}" in row.last_error
        assert row.next_attempt_at >= utcnow() + timedelta(seconds=25)
    assert deliver(app).claimed == 0  # not due again before the backoff

    smtp.start()
    make_due(app)
    assert deliver(app).sent == 3
    make_due(app)
    assert deliver(app).claimed == 0
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [f"buyer{n}@example.com" for n in range(3)]
    assert {(row.status, row.attempts) for row in outbox(app)} == {("sent", 2)}


def test_a_server_that_never_answers_costs_one_timeout_per_batch(mail_app):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        app = mail_app(MAIL_URL=f"smtp://127.0.0.1:{port}", MAIL_TIMEOUT_S=2)
        started = time.monotonic()
        queue_mails(app, *({"to": f"buyer{n}@example.com"} for n in range(5)))
        assert time.monotonic() - started < 2  # the request never waited for the server: a worker does
        started = time.monotonic()
        outcome = deliver(app)
        assert 2 <= time.monotonic() - started < 2 * 5  # one timeout for the batch, not one per mail
    assert outcome.retrying == 5
    assert all("timed out" in row.last_error and row.status == "pending" for row in outbox(app))


def test_transient_refusals_are_retried_with_growing_waits(mail_app, smtp):
    app = mail_app(MAIL_URL=smtp.url, MAIL_RETRY_BASE_S=10, MAIL_RETRY_MAX_S=25)
    smtp.handler.refuse_data[:] = ["451 4.3.0 try again later"] * 7
    queue_mails(app, {"to": "ada@example.com"})
    # doubling, capped; a 4xx never ends in "failed". Each wait counts from the refusal, somewhere between
    # the start and the end of that delivery run (on a loaded machine a run can take a second or more).
    for attempt, wait in enumerate((10, 20, 25, 25, 25, 25, 25), start=1):
        before = utcnow()
        assert deliver(app).retrying == 1
        after = utcnow()
        [row] = outbox(app)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert "451 4.3.0 try again later" in row.last_error
        assert before + timedelta(seconds=wait) <= row.next_attempt_at <= after + timedelta(seconds=wait), attempt
        make_due(app)
    assert deliver(app).sent == 1 and len(smtp.received) == 1
    assert outbox(app)[0].attempts == 8


def test_backoff_doubles_up_to_the_cap():
    mail = MailSettings(None, "a@b.c", "a@b.c", timeout=1, retry_base=30, retry_max=3600)
    assert [mail.backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 500)] == [30, 60, 120, 1920, 3600, 3600]


def test_a_recipient_refused_for_good_fails_after_a_few_attempts(app, smtp):
    smtp.handler.refuse_rcpt["gone@example.com"] = "550 5.1.1 <gone@example.com>: no such user"
    queue_mails(app, {"to": "gone@example.com"}, {"to": "ada@example.com"})
    outcome = deliver(app)
    assert (outcome.sent, outcome.retrying) == (1, 1)  # the refusal does not hold up the other mail
    for _ in range(PERMANENT_ATTEMPTS - 1):
        make_due(app)
        deliver(app)
    gone, ada = outbox(app)
    assert (gone.status, gone.attempts) == ("failed", PERMANENT_ATTEMPTS)
    assert "550 5.1.1" in gone.last_error and "no such user" in gone.last_error
    assert ada.status == "sent"
    make_due(app)
    assert deliver(app).claimed == 0
    assert [r.rcpt_tos for r in smtp.received] == [["ada@example.com"]]


def test_a_recipient_refused_for_a_while_is_never_given_up(app, smtp):
    smtp.handler.refuse_rcpt["full@example.com"] = "452 4.2.2 mailbox full"
    queue_mails(app, {"to": "full@example.com"})
    for _ in range(PERMANENT_ATTEMPTS + 3):
        deliver(app)
        make_due(app)
    [row] = outbox(app)
    assert (row.status, row.attempts) == ("pending", PERMANENT_ATTEMPTS + 3)
    del smtp.handler.refuse_rcpt["full@example.com"]
    assert deliver(app).sent == 1


def test_line_breaks_never_make_headers_or_recipients(app, smtp):
    injected = "\r\nBcc: evil@example.com\r\nX-Injected: 1"
    queue_mails(
        app,
        {"to": "ada@example.com", "subject": f"Your order{injected}\n\nbody"},
        {"to": f"victim@example.com{injected}"},
        {"to": "victim@example.com, evil@example.com"},
        {"to": "Victim <victim@example.com>"},
        {"to": "victim@example.com\nevil@example.com"},
    )
    outcome = deliver(app)
    assert (outcome.sent, outcome.failed) == (1, 4)  # no retry can make a bad recipient good
    [received] = smtp.received
    assert received.rcpt_tos == ["ada@example.com"]
    lines = received.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    names = [line.split(b":", 1)[0].decode() for line in lines if not line.startswith((b" ", b"\t"))]
    assert sorted(names) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type"]
    )
    assert received.message["Subject"] == "Your order Bcc: evil@example.com X-Injected: 1 body"
    rows = outbox(app)
    assert [row.status for row in rows] == ["sent", "failed", "failed", "failed", "failed"]
    assert all("not one mail address" in row.last_error and row.attempts == 1 for row in rows[1:])


def test_a_mail_whose_worker_died_is_sent_once_its_lease_is_over(app, smtp):
    """The crash window: a worker claimed the mail and died before recording anything."""
    [mail_id] = queue_mails(app, {"to": "ada@example.com"})
    with app.app_context():
        mail = settings(app)
        assert [m.id for m in claim(db.session(), 10, mail.lease(10))] == [mail_id]
        assert claim(db.session(), 10, mail.lease(10)) == []  # leased: no other worker takes it
    assert deliver(app).claimed == 0
    make_due(app)  # the lease is over
    assert deliver(app).sent == 1 and len(smtp.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_user_and_password_of_mail_url_log_in_percent_decoded(mail_app, make_smtp):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"p@ss:w/rd", handled=False)

    # aiosmtpd's LOGIN takes no initial response, which smtplib sends: PLAIN only.
    server = make_smtp(
        auth_required=True, auth_require_tls=False, authenticator=authenticator, auth_exclude_mechanism=["LOGIN"]
    )
    app = mail_app(MAIL_URL=f"smtp://shop%40example.com:p%40ss%3Aw%2Frd@127.0.0.1:{server.port}")
    queue_mails(app, {"to": "ada@example.com"})
    assert deliver(app).sent == 1 and len(server.received) == 1
    assert logins == [("shop@example.com", "p@ss:w/rd")]

    wrong = mail_app(MAIL_URL=f"smtp://shop%40example.com:nope@127.0.0.1:{server.port}", MAIL_TIMEOUT_S=2)
    queue_mails(wrong, {"to": "bob@example.com"})
    outcome = deliver(wrong)
    assert (outcome.retrying, outcome.server_down) == (1, True)  # a refused login is retried, never "failed"
    bob = outbox(wrong)[-1]
    assert bob.status == "pending" and "535" in bob.last_error and "nope" not in bob.last_error
