"""A real `flask worker` (RQ on QUEUE_URL) killed in the middle of an apply: the import is left applying with
nothing written, the next worker queues its step again when it starts and applies it, exactly once.
And `flask worker` without a queue refuses in one line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from shopapp import jobs
from shopapp.auth.models import User
from shopapp.extensions import db
from shopapp.products import imports
from shopapp.products.import_models import ProductImport, ProductImportChange
from shopapp.products.models import Product
from tests.ops.serve import ROOT, production_env, start_worker
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


def test_a_worker_killed_mid_apply_writes_nothing_and_the_next_applies_the_import_once(
    app, database_url, tmp_path, make_user, make_shop
):
    shop = make_shop(make_user(email="bulk@example.com"), name="Bulk")
    rows = "".join(f"SKU-{i},Product {i},,1.50,{i % 7},,true\r\n" for i in range(ROWS))
    with app.app_context():
        owner = db.session.get(User, shop.owner_id)
        batch = imports.start_import(owner, shop.id, (HEADER + rows).encode())
        imports.dry_run(owner, batch.id)
        db.session.commit()
        import_id = batch.id
        assert jobs.claim_apply(import_id)
        jobs.enqueue_import_step(import_id, jobs.APPLY)
    env = {**production_env(database_url, tmp_path / "media"), "QUEUE_URL": QUEUE_URL}
    log = tmp_path / "worker.log"

    def progress() -> dict | None:
        with app.app_context():
            return jobs.progress(import_id)

    first = start_worker(env, log)
    try:
        seen = wait_for(lambda: (p := progress()) and p["done"] >= imports.BATCH and p, 120, "no batch written", log)
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        first.wait()
    assert seen["done"] < seen["total"] == ROWS, f"the apply ended before the kill: {seen}"

    def state() -> tuple:
        with app.app_context():
            batch = db.session.get(ProductImport, import_id)
            assert batch is not None
            products = db.session.scalar(select(func.count()).select_from(Product).where(Product.shop_id == shop.id))
            return batch.status, batch.job_step, batch.job_attempts, products

    assert state() == ("applying", "apply", 1, 0)  # the killed transaction wrote nothing

    second = start_worker(env, log)
    try:
        wait_for(lambda: state()[0] == "applied", 180, "the import was not applied", log)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert state() == ("applied", None, 2, ROWS)
    assert "Queued again 1 import steps" in log.read_text()
    with app.app_context():
        live = select(func.count(func.distinct(Product.sku))).where(Product.shop_id == shop.id)
        assert db.session.scalar(live) == ROWS
        changes = (
            select(func.count()).select_from(ProductImportChange).where(ProductImportChange.import_id == import_id)
        )
        assert db.session.scalar(changes) == ROWS
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
