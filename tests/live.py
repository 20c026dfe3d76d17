"""A live ShopApp served over real HTTP by waitress on 127.0.0.1, in a thread of the test process.

One server per test session (the ``live_server`` fixture in tests/conftest.py), shared by the browser
tests and the HTTP tests, over a temporary SQLite database built by the migrations, or the PostgreSQL
test database. Tests keep their data apart by using names (and users) of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, request
from flask.wrappers import Response
from flask_migrate import upgrade
from waitress import create_server

from shopapp import create_app
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, base_config


@dataclass
class LiveServer:
    app: Flask
    url: str
    server_errors: list[str] = field(default_factory=list)

    @property
    def media_root(self) -> Path:
        return Path(self.app.config["MEDIA_ROOT"])


@contextmanager
def serve(workdir: Path) -> Iterator[LiveServer]:
    """The app with the test settings, migrated, answering on a free port until the block ends."""
    url = TEST_DATABASE_URL if ON_POSTGRES else f"sqlite:///{workdir / 'live.db'}"
    app = create_app(base_config(url, workdir))
    with app.app_context():
        upgrade()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    live = LiveServer(app, f"http://127.0.0.1:{server.effective_port}")

    @app.after_request
    def _record_5xx(response: Response) -> Response:
        if response.status_code >= 500:
            live.server_errors.append(f"{request.method} {request.full_path} -> {response.status_code}")
        return response

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.close()
