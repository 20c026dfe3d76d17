"""The embedded default (no MAIL_URL): the mails a transaction queued are written to the log right after its
commit, by the process that committed; no worker is needed, and nothing is written for a rollback."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import insert

from shopapp.core.db import utcnow
from shopapp.extensions import db
from shopapp.mail import queue
from shopapp.mail.models import OutboxMail
from tests.mail.conftest import outbox, queue_mails


def test_a_request_s_mails_are_in_the_log_once_it_has_committed(mail_app, mail_log):
    app = mail_app()
    queue_mails(app, {"to": "ada@example.com", "subject": "Order SA7K-100042 placed", "note": "Thank you!"})
    [row] = outbox(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    [line] = [line for line in mail_log if "MAIL_URL is not set" in line]
    assert "to=ada@example.com" in line and "subject='Order SA7K-100042 placed'" in line
    assert "Hello Ada,\n\nThank you!" in line and "<p>" not in line  # the text part
    assert f"message_id=<shopapp.{row.id}." in line


def test_a_rolled_back_transaction_writes_nothing(mail_app, mail_log):
    app = mail_app()
    with app.test_request_context(method="POST"):
        queue("ada@example.com", "Never", "test_note", name="Ada", note="rolled back")
        db.session.flush()
        db.session.rollback()
        db.session.add(OutboxMail(recipient="x@example.com", subject="s", text_body="t", html_body="h"))
        db.session.rollback()
        db.session.commit()  # a later transaction that queued nothing writes nothing either
    assert outbox(app) == [] and mail_log == []


def test_mails_queued_outside_a_request_are_written_after_that_commit_too(mail_app, mail_log):
    app = mail_app()
    with app.test_request_context(method="POST"):  # render_template needs one; a CLI command would have its app context
        queue("ada@example.com", "From a command", "test_note", name="Ada", note="hi")
        queue("bob@example.com", "From a command", "test_note", name="Bob", note="hi")
        db.session.commit()
    assert [row.status for row in outbox(app)] == ["sent", "sent"]
    assert sum("MAIL_URL is not set" in line for line in mail_log) == 2


def test_the_worker_writes_mails_left_pending_to_the_log(mail_app: Flask, mail_log):
    """A process that crashed between its commit and the log leaves the mail pending: ``--once`` finishes it."""
    app = mail_app()
    with app.app_context():
        db.session.execute(
            insert(OutboxMail).values(
                recipient="ada@example.com",
                subject="Left over",
                text_body="left",
                html_body="<p>left</p>",
                next_attempt_at=utcnow(),
                created_at=utcnow(),
            )
        )
        db.session.commit()  # a Core insert: no ORM flush, so nothing delivers it in-process
    assert [row.status for row in outbox(app)] == ["pending"]
    result = app.test_cli_runner().invoke(args=["mail-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "mail-worker: sent 1, retrying 0, failed 0; through the log (MAIL_URL is not set)." in result.output
    assert [row.status for row in outbox(app)] == ["sent"]
    assert any("subject='Left over'" in line for line in mail_log)


def test_queue_keeps_subjects_to_one_line_and_refuses_an_overlong_recipient(mail_app):
    app = mail_app()
    with app.test_request_context(method="POST"):
        mail = queue(" ada@example.com ", "Line one\nline two\t" + "x" * 400, "test_note", name="Ada", note="")
        assert mail.recipient == "ada@example.com"
        assert mail.subject.startswith("Line one line two x") and len(mail.subject) == 300
        assert "<title>Line one line two x" in mail.html_body  # the subject is in the templates' context
        with pytest.raises(ValueError, match="at most 254"):
            queue("a" * 250 + "@example.com", "Hi", "test_note", name="Ada", note="")
        db.session.rollback()
