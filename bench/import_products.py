"""Time ``flask import-products`` with 100 000 rows on PostgreSQL: dry run and apply, rows/s, peak RSS.

Run: .venv/bin/python bench/import_products.py [--rows 100000] [--catalog 10000] [--queue]

The database comes from bench/run.py's loader (``prepare``: a generated catalog of ``--catalog`` products in
other shops, reused by later runs), named ``shopapp_bench_import_<catalog>``. Each run adds an empty shop for
the loader's first owner and imports into it twice, each file first with ``--dry-run`` and then for real:
``--rows`` new products (every row a create: INSERTs), then the same file with every price changed (every
row an update of a product found by its SKU). Each command runs in a process of its own with production
settings, as bench/export.py runs the export; its wall time and peak RSS (``wait4``'s ``ru_maxrss``) are
measured. An apply includes its own dry run inside the transaction (products/imports.py). The target
(issue 17): 100 000 rows applied in under 60 s with under 300 MB peak.

``--queue`` runs the steps as the dashboard does in production instead: this process uploads the file and
queues each step (shopapp/jobs/, RQ on Redis), one ``flask worker`` process runs them (each in a work horse it
forks), and the time is from the queueing to the step's end in the database; the peak is the work horse's
(``VmHWM``, sampled every 50 ms while the step runs). The worker's log goes to ``BENCH_WORKER_LOG`` if set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import plain_url  # noqa: E402
from bench.run import REDIS_URL, prepare, production_env  # noqa: E402

PREFIX = "shopapp_bench_import"
TARGET_S, TARGET_MB = 60.0, 300
HEADER = "sku,name,description,price,stock,category,is_active\r\n"


def new_shop(url: str) -> tuple[int, str]:
    """An empty shop of the first owner's, and the path of a top-level category, for the rows."""
    with psycopg.connect(plain_url(url)) as conn:
        name = f"Import bench {secrets.token_hex(4)}"
        row = conn.execute(
            "INSERT INTO shops (owner_id, name, slug) VALUES (1, %s, 'import-bench') RETURNING id", (name,)
        ).fetchone()
        category = conn.execute("SELECT name FROM categories WHERE parent_id IS NULL ORDER BY id LIMIT 1").fetchone()
    assert row is not None and category is not None
    return row[0], category[0]


def write_file(path: Path, rows: int, category: str, cents: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            out.write(
                f'IMP-{i},Imported product {i},"A sturdy thing, number {i}, with a comma",'
                f"{(i % 5000) + cents / 100:.2f},{i % 100},{category},true\r\n"
            )


def run_import(env: dict[str, str], path: Path, shop: int, *extra: str) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and the summary line of one ``flask import-products`` process."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "import-products", str(path), "--shop", str(shop)]
    started = time.perf_counter()
    process = subprocess.Popen(  # our own command, no shell
        [*command, *extra], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    lines = process.stdout.read().splitlines()
    summary = next((line for line in lines if line.startswith("created ")), "no summary line")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import-products failed: {summary}")
    return elapsed, usage.ru_maxrss / 1024, summary


def _horse_peak_mb(worker: int) -> float:
    """The highest RSS so far (``VmHWM``) among the worker's children: the work horse running the job."""
    peak = 0.0
    for child in Path(f"/proc/{worker}/task/{worker}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError, StopIteration):  # the horse has just ended
            status = Path(f"/proc/{child}/status").read_text().splitlines()
            peak = max(peak, int(next(line.split()[1] for line in status if line.startswith("VmHWM:"))) / 1024)
    return peak


@contextlib.contextmanager
def queued(env: dict[str, str], work: str):  # type: ignore[no-untyped-def]
    """A ``flask worker`` on a queue of its own, and a function running one step through it as the dashboard
    does: seconds, the worker's peak RSS (MB) so far, and the step's summary."""
    env = {**env, "QUEUE_URL": REDIS_URL}
    os.environ.update(env)
    from rq import Worker

    from shopapp import create_app, jobs
    from shopapp.auth.models import User
    from shopapp.extensions import db
    from shopapp.products import imports
    from shopapp.products.import_models import ProductImport

    app = create_app()
    log = Path(os.environ.get("BENCH_WORKER_LOG", Path(work) / "worker.log"))
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    worker = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    with app.app_context():  # timed from when the worker listens, not from its start-up
        queue = jobs.queue()
        assert queue is not None
        while not Worker.count(queue=queue):
            assert worker.poll() is None, log.read_text()[-2000:]
            time.sleep(0.05)

    import_id = 0  # the file's import: its dry run starts it, its apply follows

    def run(path: Path, shop: int, dry_run: bool) -> tuple[float, float, str]:
        nonlocal import_id
        with app.app_context():
            owner = db.session.get(User, 1)
            assert owner is not None
            started = time.perf_counter()
            if dry_run:
                import_id = imports.start_import(owner, shop, path.read_bytes()).id
                jobs.enqueue_import_step(import_id, jobs.DRY_RUN)
            else:
                assert jobs.claim_apply(import_id)
                jobs.enqueue_import_step(import_id, jobs.APPLY)
            peak = 0.0
            while True:
                peak = max(peak, _horse_peak_mb(worker.pid))
                db.session.rollback()
                batch = db.session.get(ProductImport, import_id, populate_existing=True)
                assert batch is not None and worker.poll() is None, log.read_text()[-2000:]
                if batch.job_step is None:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            if batch.job_error:
                raise SystemExit(f"the {'dry run' if dry_run else 'apply'} failed: {batch.job_error}")
            return elapsed, peak, imports.stored_report(batch).summary

    try:
        yield run
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--catalog", type=int, default=10_000, help="Products of the other shops.")
    parser.add_argument("--queue", action="store_true", help="Through the job queue and a flask worker.")
    args = parser.parse_args()
    url = prepare(args.catalog, PREFIX)
    shop, category = new_shop(url)
    how = "through the job queue and one flask worker" if args.queue else "with flask import-products"
    print(f"{args.rows:,} rows into an empty shop, beside {args.catalog:,} products of other shops, {how}")
    print(f"{'file':<10}{'step':<9}{'seconds':>9}{'rows/s':>10}{'peak RSS MB':>13}  summary")
    worst_s = worst_mb = 0.0
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        env = production_env(url, work)
        path = Path(work) / "products.csv"
        run_step = stack.enter_context(queued(env, work)) if args.queue else None
        for label, cents in (("creates", 0), ("updates", 50)):
            write_file(path, args.rows, category, cents)
            for step, extra in (("dry run", ("--dry-run",)), ("apply", ())):
                if run_step is None:
                    seconds, peak_mb, summary = run_import(env, path, shop, *extra)
                else:
                    seconds, peak_mb, summary = run_step(path, shop, dry_run=bool(extra))
                print(f"{label:<10}{step:<9}{seconds:>9.2f}{args.rows / seconds:>10,.0f}{peak_mb:>13.0f}  {summary}")
                sys.stdout.flush()
                if step == "apply":
                    worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, peak_mb)
    verdict = "OK" if worst_s < TARGET_S and worst_mb < TARGET_MB else "MISS"
    print(
        f"\nslowest apply {worst_s:.2f} s (target < {TARGET_S:.0f} s), highest peak {worst_mb:.0f} MB "
        f"(target < {TARGET_MB} MB): {verdict}"
    )


if __name__ == "__main__":
    main()
