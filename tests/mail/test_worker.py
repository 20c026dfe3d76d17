"""``flask mail-worker`` as operators run it: a real process against a real SMTP server, and several workers
draining one outbox at once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from shopapp.extensions import db
from shopapp.mail.delivery import Outcome, drain, settings
from tests.mail.conftest import outbox, queue_mails
from tests.ops.serve import ROOT

FLASK = str(Path(sys.executable).parent / "flask")
APP_VARIABLES = ("APP_ENV", "DATABASE_URL", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "CACHE_URL", "MAIL_URL", "MAIL_FROM")


def worker_env(database_url: str, tmp_path: Path, **env: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
    return base | {"FLASK_APP": "wsgi", "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp_path / "media"), **env}


def flask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_mail_worker_once_delivers_what_is_due_and_exits(mail_app, smtp, database_url, tmp_path):
    app = mail_app(MAIL_URL=smtp.url)
    queue_mails(app, *({"to": f"buyer{n}@example.com"} for n in range(3)))
    env = worker_env(database_url, tmp_path, MAIL_URL=smtp.url, MAIL_FROM="Shop <shop@example.com>")
    result = flask("mail-worker", "--once", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"mail-worker: sent 3, retrying 0, failed 0; through smtp://127.0.0.1:{smtp.port}." in result.stdout
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [f"buyer{n}@example.com" for n in range(3)]
    assert {r.message["From"] for r in smtp.received} == {"Shop <shop@example.com>"}
    assert {row.status for row in outbox(app)} == {"sent"}


def test_mail_worker_delivers_while_it_runs_and_stops_cleanly_on_sigterm(mail_app, smtp, database_url, tmp_path):
    app = mail_app(MAIL_URL=smtp.url)
    env = worker_env(database_url, tmp_path, MAIL_URL=smtp.url)
    [worker] = start_workers(env, "--poll-interval", "0.1")
    try:
        queue_mails(app, {"to": "ada@example.com"})
        assert len(smtp.wait_for(1)) == 1
        smtp.stop()  # an outage while it runs: it keeps going, and delivers once the server is back
        queue_mails(app, {"to": "bob@example.com"})
        deadline = time.monotonic() + 30
        while outbox(app)[-1].attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert outbox(app)[-1].status == "pending" and "ConnectionRefusedError" in outbox(app)[-1].last_error
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "mail-worker: stopped; sent 1, retrying 1, failed 0." in out
    assert "Traceback" not in err


def test_two_workers_draining_at_once_send_each_mail_once(mail_app, smtp):
    """Two workers (each its own connection to the database) start at the same moment and race over one outbox,
    batch after batch."""
    app = mail_app(MAIL_URL=smtp.url)
    count = 60
    queue_mails(app, *({"to": f"buyer{n}@example.com"} for n in range(count)))
    smtp.handler.delay_s = 0.002  # long enough for the claims to interleave
    start = threading.Barrier(2)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                start.wait()
                outcomes.append(drain(db.session(), settings(app), limit=4))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(o.sent for o in outcomes) and all(o.sent > 0 for o in outcomes), outcomes  # both took part
    assert sum(o.sent for o in outcomes) == count
    recipients = [r.rcpt_tos[0] for r in smtp.received]
    assert len(recipients) == count and len(set(recipients)) == count
    assert len({r.message["Message-ID"] for r in smtp.received}) == count
    assert {(row.status, row.attempts) for row in outbox(app)} == {("sent", 1)}


def start_workers(env: dict[str, str], *options: str, count: int = 1) -> list[subprocess.Popen[str]]:
    """``count`` processes of ``flask mail-worker`` in a loop, once each has said it is looking at the outbox."""
    workers = [
        subprocess.Popen(
            [FLASK, "mail-worker", *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert "mail-worker: delivering through " in worker.stdout.readline()
    return workers


def test_two_worker_processes_send_each_mail_once(mail_app, smtp, database_url, tmp_path):
    """Two worker processes are up when 60 mails are queued at once: their claims race (PostgreSQL: FOR UPDATE
    SKIP LOCKED; SQLite: one writer at a time), and each mail is sent once."""
    app = mail_app(MAIL_URL=smtp.url)
    count = 60
    smtp.handler.delay_s = 0.005
    env = worker_env(database_url, tmp_path, MAIL_URL=smtp.url)
    workers = start_workers(env, "--poll-interval", "0.05", "--batch", "5", count=2)
    try:
        queue_mails(app, *({"to": f"buyer{n}@example.com"} for n in range(count)))
        smtp.wait_for(count, timeout=60)
        time.sleep(0.3)  # a duplicate would arrive now
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=30)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    sent = [int(re.search(r"stopped; sent (\d+),", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(sent) == count and min(sent) > 0, sent  # both took part
    recipients = [r.rcpt_tos[0] for r in smtp.received]
    assert len(recipients) == count and len(set(recipients)) == count
    assert {(row.status, row.attempts) for row in outbox(app)} == {("sent", 1)}
