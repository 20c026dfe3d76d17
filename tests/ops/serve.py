"""gunicorn serving the app with production settings, for the tests that need real processes."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests

from shopapp.core.client_limits import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of the ops tests' own: it is flushed before each test that serves the app.
REDIS_URL = os.environ.get("TEST_SHARED_REDIS_URL", "redis://127.0.0.1:6379/13")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str, media_root: Path, secret_key: str | None = None) -> dict[str, str]:
    """The environment of a production process: shared secret, database, Redis and media directory."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secret_key or secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "CACHE_URL": REDIS_URL,
        "MEDIA_ROOT": str(media_root),
        "LOG_LEVEL": "WARNING",
        # These tests send bursts from one address; the limits per address have tests of their own.
        **{key: "100000/minute" for key, _ in ACTIONS.values()},
    }


@contextmanager
def gunicorn(env: dict[str, str], *options: str, count: int = 1) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """``count`` gunicorn instances with these options, each answering /healthz: their URLs and processes."""
    executable = str(Path(sys.executable).parent / "gunicorn")
    served = []
    for _ in range(count):
        url = f"http://127.0.0.1:{free_port()}"
        command = [executable, *options, "--bind", url.removeprefix("http://"), "wsgi:app"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        served.append((url, process))
    try:
        for url, _ in served:
            _wait_until_up(url)
        yield served
    finally:
        for _, process in served:
            process.terminate()
        for _, process in served:
            process.wait(timeout=30)


@contextmanager
def flask_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A ``flask worker`` (the job queue's worker of the production layout) running with this environment, its
    output appended to ``log``; stopped as its service manager would (SIGTERM: RQ's warm shutdown)."""
    process = start_worker(env, log)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=5)
            return
        except requests.RequestException:  # not listening yet, or too busy starting to answer in time
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
