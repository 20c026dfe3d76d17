"""A real `flask worker` (RQ on QUEUE_URL) killed in the middle of an apply: the import is left applying with
nothing written, the next worker queues its step again when it starts and applies it, exactly once. A worker
whose database connection is cut mid-apply runs the step again itself, also exactly once. And `flask worker`
without a queue refuses in one line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from shopapp import jobs
from shopapp.auth.models import User
from shopapp.extensions import db
from shopapp.products import imports
from shopapp.products.import_models import ProductImport, ProductImportChange
from shopapp.products.models import Product
from tests.ops.serve import ROOT, flask_worker, production_env, start_worker
from tests.pages.test_import_jobs import QUEUE_URL, app_config  # noqa: F401 (the fixture: the app has the queue)

ROWS = 20_000
HEADER = "sku,name,description,price,stock,category,is_active\r\n"


def wait_for(condition, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"{what} within {timeout} s; the worker said: {log.read_text()[-3000:]}")


def queue_apply(app, shop) -> int:  # type: ignore[no-untyped-def]
    """A checked import of ROWS new products into ``shop``, claimed and its apply queued: its id."""
    rows = "".join(f"SKU-{i},Product {i},,1.50,{i % 7},,true\r\n" for i in range(ROWS))
    with app.app_context():
        owner = db.session.get(User, shop.owner_id)
        batch = imports.start_import(owner, shop.id, (HEADER + rows).encode())
        imports.dry_run(owner, batch.id)
        db.session.commit()
        assert jobs.claim_apply(batch.id)
        jobs.enqueue_import_step(batch.id, jobs.APPLY)
        return batch.id


class Watch:
    """The import's progress in Redis and its state in the database, read the way the pages read them."""

    def __init__(self, app, import_id: int, shop_id: int) -> None:  # type: ignore[no-untyped-def]
        self.app, self.import_id, self.shop_id = app, import_id, shop_id

    def progress(self) -> dict | None:
        with self.app.app_context():
            return jobs.progress(self.import_id)

    def state(self) -> tuple:
        with self.app.app_context():
            batch = db.session.get(ProductImport, self.import_id)
            assert batch is not None
            count = select(func.count()).select_from(Product).where(Product.shop_id == self.shop_id)
            return batch.status, batch.job_step, batch.job_attempts, db.session.scalar(count)

    def first_batch_written(self, log: Path) -> dict:
        return wait_for(lambda: (p := self.progress()) and p["done"] >= imports.BATCH and p, 120, "no batch", log)

    def assert_applied_once(self) -> None:
        assert self.state() == ("applied", None, 2, ROWS)
        with self.app.app_context():
            live = select(func.count(func.distinct(Product.sku))).where(Product.shop_id == self.shop_id)
            assert db.session.scalar(live) == ROWS
            changes = (
                select(func.count())
                .select_from(ProductImportChange)
                .where(ProductImportChange.import_id == self.import_id)
            )
            assert db.session.scalar(changes) == ROWS


def kill_with_its_children(worker: subprocess.Popen) -> None:
    """SIGKILL, no clean-up of any kind, for the worker and the processes it forked (the work horse running the
    job, RQ's scheduler), as when the machine or its container dies: the horse has a process group of its own,
    so it is found among the worker's children."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert children, "the worker runs its job in a forked work horse"
    for pid in (*map(int, children), worker.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait()


def test_a_worker_killed_mid_apply_writes_nothing_and_the_next_applies_the_import_once(
    app, database_url, tmp_path, make_user, make_shop
):
    shop = make_shop(make_user(email="bulk@example.com"), name="Bulk")
    import_id = queue_apply(app, shop)
    watch = Watch(app, import_id, shop.id)
    env = {**production_env(database_url, tmp_path / "media"), "QUEUE_URL": QUEUE_URL}
    log = tmp_path / "worker.log"

    first = start_worker(env, log)
    try:
        seen = watch.first_batch_written(log)
    finally:
        kill_with_its_children(first)
    assert seen["done"] < seen["total"] == ROWS, f"the apply ended before the kill: {seen}"
    assert watch.state() == ("applying", "apply", 1, 0)  # the killed transaction wrote nothing

    with flask_worker(env, log):
        wait_for(lambda: watch.state()[0] == "applied", 180, "the import was not applied", log)
    watch.assert_applied_once()
    assert "Queued again 1 import steps" in log.read_text()
    # A worker started now has nothing to queue again, and would find the step done.
    with app.app_context():
        queue = jobs.queue()
        assert queue is not None and jobs.requeue_unfinished(queue) == 0


def test_the_worker_refuses_to_start_without_a_queue(tmp_path, database_url):
    env = {**production_env(database_url, tmp_path / "media")}
    env.pop("QUEUE_URL", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: QUEUE_URL is not set: jobs run in the request; set it to a redis:// URL."


@pytest.mark.postgres_only
def test_a_worker_whose_database_connection_is_cut_mid_apply_runs_the_step_again_and_applies_it_once(
    app, database_url, tmp_path, make_user, make_shop
):
    """The server ends the worker's connection in the middle of the apply (as a restart or a failover does):
    the transaction is rolled back, the import keeps its claim, and RQ runs the job again after its first
    retry interval, on a new connection, without a worker restart."""
    shop = make_shop(make_user(email="bulk@example.com"), name="Bulk")
    import_id = queue_apply(app, shop)
    watch = Watch(app, import_id, shop.id)
    name = "shopapp-import-worker"
    env = {**production_env(database_url, tmp_path / "media"), "QUEUE_URL": QUEUE_URL, "PGAPPNAME": name}
    log = tmp_path / "worker.log"
    cut = text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name")
    with flask_worker(env, log):
        seen = watch.first_batch_written(log)
        with app.app_context():
            assert db.session.scalar(cut, {"name": name}) == 1
        assert seen["done"] < seen["total"] == ROWS, f"the apply ended before the cut: {seen}"
        wait_for(lambda: watch.state()[1] is None, 60 + jobs.RETRY_INTERVALS_S[0], "the step did not end", log)
    watch.assert_applied_once()
    assert "connection lost, RQ runs it again" in log.read_text()
