"""Background jobs (issue 17): the steps of a product import (its dry run, its apply) run on an RQ queue in
Redis (``QUEUE_URL``), executed by ``flask worker``; with no queue (development) they run in the request,
right after its commit, as before.

The database is the record: an import's ``job_step`` says which step is queued or running, ``job_attempts``
how many times it started, ``job_error`` why it last failed. A job carries only the import's id and its step
and reads everything else again. Progress (rows done of rows total) goes to Redis, never to the database: the
apply is one transaction, and a second connection writing progress meanwhile would wait behind it on SQLite
(one writer) and cost a commit per batch on PostgreSQL; Redis is what every app process can read at once.

Never applied twice: the apply route claims the import (``uploaded`` → ``applying``, one UPDATE that only one
request can win), and the job takes the import's row lock and checks the claim before it writes; the products,
their undo records and the status ``applied`` commit in one transaction. A worker killed mid-apply has written
nothing, the import stays ``applying`` with its step, and ``flask worker`` queues the steps left so again when
it starts (``requeue_unfinished``): the retry runs the step from the start, and a second run of a step already
done (a duplicate job) finds the claim gone and does nothing. A step that fails on a lost connection (the
database restarted or failed over, Redis went away) has rolled back and keeps its claim: RQ runs the job again
after ``RETRY_INTERVALS_S`` (the worker's scheduler), and only when those retries are spent is the step given
back to the owner with the error.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any, cast

import click
from flask import current_app
from redis import Redis, RedisError
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from shopapp.core.db import utcnow
from shopapp.core.errors import DomainError
from shopapp.extensions import db
from shopapp.products import imports
from shopapp.products.import_models import ProductImport

DRY_RUN = "dry_run"
APPLY = "apply"
STEPS = (DRY_RUN, APPLY)
QUEUE_NAME = "shopapp"
PROGRESS_TTL_S = 24 * 3600
JOB_TIMEOUT_S = 3600
# After a lost connection, the job runs again this many seconds later, once per interval, then gives up.
RETRY_INTERVALS_S = (5, 30, 120)
_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
QUEUE_DOWN = (
    "The job queue is not answering, so the {step} did not start and nothing was changed. Try again in a moment."
)


@cache
def _connection(url: str) -> Redis:
    """One client (and its connection pool) per queue URL for the process, not one per call; a queue that is
    down is noticed within 2 s."""
    return Redis.from_url(url, socket_connect_timeout=2)


def queue() -> Queue | None:
    """The job queue of ``QUEUE_URL``; None without one (embedded mode: jobs run in the request)."""
    url = current_app.config.get("QUEUE_URL")
    return Queue(QUEUE_NAME, connection=_connection(url)) if url else None


def _job_id(import_id: int, step: str) -> str:
    return f"import-{import_id}-{step}"


def _progress_key(import_id: int) -> str:
    return f"shopapp:import:{import_id}:progress"


def enqueue_import_step(import_id: int, step: str) -> None:
    """Run ``step`` of the import as a job: the import's ``job_step`` is set and committed first (the job and
    any other process then see it), then the job is queued, or without a queue run here and now."""
    db.session.execute(update(ProductImport).where(ProductImport.id == import_id).values(job_step=step, job_error=None))
    db.session.commit()
    jobs = queue()
    if jobs is None:
        run_import_step(import_id, step)
        return
    try:
        jobs.connection.delete(_progress_key(import_id))
        _enqueue(jobs, import_id, step)
    except RedisError:  # the step is not left "running" with no job: the report says why, and the owner retries
        current_app.logger.warning("job queue unavailable: import %s %s not queued", import_id, step, exc_info=True)
        _release(import_id, QUEUE_DOWN.format(step=step.replace("_", " ")))


def claim_apply(import_id: int) -> bool:
    """Take a checked import for applying, atomically: False if it is not waiting to be applied (another
    request claimed it, or its dry run is not done)."""
    claimed = db.session.execute(
        update(ProductImport)
        .where(
            ProductImport.id == import_id,
            ProductImport.status == "uploaded",
            ProductImport.job_step.is_(None),
            ProductImport.plan_digest.is_not(None),
        )
        .values(status="applying")
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def run_import_step(import_id: int, step: str) -> None:
    """The job: ``step`` of the import, read again from the database; a refusal (the plan changed, a product
    changed meanwhile) is kept as ``job_error`` and ends the step, anything else too and is raised (RQ keeps
    the job as failed). Runs in an app context (``flask worker``'s, or the request's)."""
    started = db.session.execute(
        update(ProductImport)
        .where(ProductImport.id == import_id, ProductImport.job_step == step)
        .values(job_attempts=ProductImport.job_attempts + 1, job_started_at=utcnow())
    )
    db.session.commit()
    if not started.rowcount:  # type: ignore[attr-defined]
        return  # done already (a duplicate job), or the import was cancelled
    batch = db.session.get(ProductImport, import_id, with_for_update=True, populate_existing=True)
    if batch is None or batch.job_step != step:
        db.session.rollback()
        return
    progress = _progress_writer(import_id)
    try:
        if step == APPLY:
            imports.apply(batch.user, import_id, progress)
        else:
            imports.dry_run(batch.user, import_id, progress)
    except DomainError as exc:
        db.session.rollback()
        if isinstance(exc, imports.PlanChanged):
            _release(import_id, None)
            imports.dry_run(batch.user, import_id)  # kept: the report shows it, applying again does what it says
        _release(import_id, exc.message)
        return
    except BaseException as exc:
        db.session.rollback()
        job = get_current_job()
        if _connection_lost(exc) and job is not None and job.retries_left:
            current_app.logger.warning("import %s %s: connection lost, RQ runs it again", import_id, step)
            raise  # the claim stays: the retry (or a worker's restart) runs the step again from the start
        _release(import_id, f"The {step.replace('_', ' ')} failed ({type(exc).__name__}); nothing was written.")
        raise
    batch.job_step = None
    db.session.commit()


def _connection_lost(exc: BaseException) -> bool:
    """The step failed on its connection to the database or to Redis, not on the import: worth running again."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError)
    return isinstance(exc, RedisError)


def _release(import_id: int, error: str | None) -> None:
    """End the import's step without its work: back to waiting for the owner, with ``error`` to show."""
    db.session.execute(
        update(ProductImport)
        .where(ProductImport.id == import_id, ProductImport.status.in_(("uploaded", "applying")))
        .values(status="uploaded", job_step=None, job_error=error)
    )
    db.session.commit()


def _progress_writer(import_id: int) -> imports.Progress | None:
    jobs = queue()
    if jobs is None:
        return None
    redis, key, started = jobs.connection, _progress_key(import_id), time.time()

    def report(done: int, total: int) -> None:
        redis.hset(key, mapping={"done": done, "total": total, "started": started})
        redis.expire(key, PROGRESS_TTL_S)

    return report


def progress(import_id: int) -> dict[str, Any] | None:
    """The running step's rows done and total, and about how many seconds are left (None before the first
    batch, or without a queue)."""
    jobs = queue()
    if jobs is None:
        return None
    try:
        found = cast(dict[bytes, bytes], jobs.connection.hgetall(_progress_key(import_id)))
    except RedisError:  # the page still shows the step, only without its figures
        return None
    stored = {k.decode(): float(v) for k, v in found.items()}
    if not stored or not stored.get("total"):
        return None
    done, total = int(stored["done"]), int(stored["total"])
    elapsed = time.time() - stored["started"]
    left = round(elapsed / done * (total - done)) if done else None
    return {"done": done, "total": total, "seconds_left": left}


def requeue_unfinished(jobs: Queue) -> int:
    """Queue again every import step the database says is to run whose job is not waiting in this queue (its
    worker was killed mid-step, or Redis lost it): at a worker's start. A job still running on a live worker
    is queued again too (RQ cannot tell a dead worker's job from a live one's until its heartbeat expires);
    the copy finds the step done when it gets the import's row, and does nothing. How many were queued."""
    count = 0
    unfinished = select(ProductImport.id, ProductImport.job_step).where(ProductImport.job_step.is_not(None))
    for import_id, step in cast(list[tuple[int, str]], db.session.execute(unfinished).all()):
        try:
            status = Job.fetch(_job_id(import_id, step), connection=jobs.connection).get_status()
        except NoSuchJobError:
            status = None
        if status not in _WAITING:
            _enqueue(jobs, import_id, step)
            count += 1
    db.session.rollback()
    return count


def _enqueue(jobs: Queue, import_id: int, step: str) -> None:
    jobs.enqueue(
        run_import_step,
        import_id,
        step,
        job_id=_job_id(import_id, step),
        job_timeout=JOB_TIMEOUT_S,
        retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
    )


@click.command("worker")
def worker_command() -> None:
    """Run the background jobs of QUEUE_URL (imports' dry runs and applies), one at a time; stop with Ctrl-C.
    Steps a killed worker left unfinished are queued again first."""
    jobs = queue()
    if jobs is None:
        raise click.ClickException("QUEUE_URL is not set: jobs run in the request; set it to a redis:// URL.")
    requeued = requeue_unfinished(jobs)
    if requeued:
        click.echo(f"Queued again {requeued} import steps a stopped worker left unfinished.")
    # RQ's forking worker: each job runs in a work horse forked from this process (in the app context the flask
    # command pushed), so the memory an import grew is handed back when it ends, and a horse that dies (out of
    # memory, killed) is a failed job RQ retries while this process goes on. This process touches the database
    # only above: its pool is emptied before the first fork, so a horse opens connections of its own and never
    # shares one. The scheduler (also forked; it only talks to Redis) queues the retries when they are due.
    # Run more workers for more jobs at once.
    db.engine.dispose()
    Worker([jobs], connection=jobs.connection).work(with_scheduler=True)
