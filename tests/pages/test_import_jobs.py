"""The dashboard's CSV import with a job queue (QUEUE_URL, shopapp/jobs/): the upload and the apply only queue
their step; the report shows a progress bar that htmx polls (and a Refresh link without JavaScript) until a
worker has run it, then the dry run's report or the applied import, as without a queue. An import is claimed
once: a second Apply while it is applying queues nothing."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any

import pytest
import redis
from rq import SimpleWorker

from shopapp import jobs
from shopapp.extensions import db
from shopapp.products.import_models import ProductImport
from tests.conftest import base_config
from tests.pages.conftest import post, text
from tests.pages.test_import_pages import HEADER, products, upload

QUEUE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def app_config(database_url, tmp_path) -> dict[str, Any]:
    try:
        redis.Redis.from_url(QUEUE_URL, socket_connect_timeout=1).flushdb()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {QUEUE_URL}")
    return base_config(database_url, tmp_path, QUEUE_URL=QUEUE_URL)


@pytest.fixture
def shop(owner, make_shop, make_product):
    shop = make_shop(owner, name="Attic")
    make_product(shop, name="Mug", sku="MUG-1", price=Decimal("5.00"), stock=3)
    return shop


def run_queued_jobs(app) -> None:
    """What `flask worker` does with the queue, here and until it is empty."""
    with app.app_context():
        queue = jobs.queue()
        assert queue is not None
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def polling(page: str, import_id: int) -> bool:
    return f'hx-get="/dashboard/imports/{import_id}/status" hx-trigger="every 1s"' in page


def test_the_steps_run_on_the_worker_and_the_page_polls_until_each_is_done(app, client, shop):
    response = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n,New,,1.00,1,,true\r\n")
    report_url = response.headers["Location"]
    import_id = int(report_url.rsplit("/", 1)[1])
    page = text(client.get(report_url))
    assert "<h1>Checking the file</h1>" in page and polling(page, import_id)
    assert "Waiting for a worker to start it" in page and f'href="{report_url}" role="button"' in page  # Refresh
    assert ">Apply</button>" not in page

    run_queued_jobs(app)
    fragment = text(client.get(report_url + "/status"))
    assert not polling(fragment, import_id) and "<!DOCTYPE" not in fragment.upper()  # done: the polling stops
    assert (
        re.search(r"<dt>Created</dt><dd>1</dd>\s*<dt>Updated</dt><dd>1</dd>", fragment)
        and ">Apply</button>" in fragment
    )

    response = post(client, report_url + "/apply")
    assert response.headers["Location"] == report_url  # queued: the report shows its progress
    page = text(client.get(report_url))
    assert "<h1>Applying the import</h1>" in page and polling(page, import_id)
    again = post(client, report_url + "/apply")
    assert "This import is not waiting to be applied" in text(client.get(again.headers["Location"]))
    assert products(app, shop) == [("Mug", Decimal("5.00"), True)]

    run_queued_jobs(app)
    page = text(client.get(report_url))
    assert "<h1>Import applied</h1>" in page and ">Undo import</button>" in page and not polling(page, import_id)
    assert products(app, shop) == [("Big mug", Decimal("6.00"), True), ("New", Decimal("1.00"), True)]
    with app.app_context():
        batch = db.session.get(ProductImport, import_id)
        assert batch is not None
        assert (batch.status, batch.job_step, batch.job_attempts, batch.job_error) == ("applied", None, 2, None)


def test_the_progress_bar_says_rows_done_of_total_and_time_left(app, client, shop):
    report_url = upload(client, shop, HEADER + ",New,,1.00,1,,true\r\n").headers["Location"]
    import_id = int(report_url.rsplit("/", 1)[1])
    with app.app_context():
        writer = jobs._progress_writer(import_id)
        assert writer is not None
        writer(250, 1000)
    fragment = text(client.get(report_url + "/status"))
    assert '<progress value="250" max="1000"></progress>' in fragment
    assert re.search(r"250 rows done of 1000, about \d+ s left", fragment)


def test_a_refused_apply_is_kept_on_the_import_and_shown(app, client, shop, make_product):
    report_url = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n").headers["Location"]
    run_queued_jobs(app)
    make_product(shop, name="Big mug")  # the name the row takes is taken meanwhile: the plan changed
    post(client, report_url + "/apply")
    run_queued_jobs(app)
    page = text(client.get(report_url))
    assert "The shop&#39;s products changed since the dry run" in page and 'role="alert"' in page
    assert "<dt>Invalid</dt><dd>1</dd>" in page  # the new dry run, kept
    assert products(app, shop)[0] == ("Mug", Decimal("5.00"), True)


def test_a_queue_that_is_down_is_said_on_the_report_and_nothing_is_left_running(app, client, shop):
    """Redis refusing connections (nothing listens on port 1): no 500, the step is not left "running" with no
    job, and once the queue is back the owner's retry goes through."""
    app.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"
    response = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n")
    report_url = response.headers["Location"]
    page = text(client.get(report_url))
    assert jobs.QUEUE_DOWN.format(step="dry run").replace("'", "&#39;") in page and 'role="alert"' in page
    assert ">Upload the file again</a>" in page and ">Apply</button>" not in page
    assert not polling(page, int(report_url.rsplit("/", 1)[1]))

    app.config["QUEUE_URL"] = QUEUE_URL  # back: a new upload is checked; then the queue goes away at Apply
    report_url = upload(client, shop, HEADER + "mug-1,Big mug,,6.00,3,,true\r\n").headers["Location"]
    run_queued_jobs(app)
    app.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"
    post(client, report_url + "/apply")
    page = text(client.get(report_url))
    assert jobs.QUEUE_DOWN.format(step="apply") in page and ">Apply</button>" in page  # ready to try again
    assert products(app, shop) == [("Mug", Decimal("5.00"), True)]

    app.config["QUEUE_URL"] = QUEUE_URL
    post(client, report_url + "/apply")
    run_queued_jobs(app)
    assert "<h1>Import applied</h1>" in text(client.get(report_url))
    assert products(app, shop) == [("Big mug", Decimal("6.00"), True)]
