"""Long commands count their work on a terminal and say nothing of it through a pipe.

``flask seed-demo`` (some 15 s for the demo's products and their images) and ``bench/generate.py`` (a
million products in about two minutes) draw a bar with counts on stderr while it is a terminal: here a
pseudo-terminal from the ``pty`` module. Through pipes their output is the lines they always printed and
nothing else; for seed-demo that is checked where the README's quick start seeds its database
(tests/test_readme.py), for the generator below.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench.generate import PROGRESS_EVERY, plain_url
from shopapp.demo import PRODUCT_COUNT
from tests.conftest import TEST_DATABASE_URL
from tests.ops.serve import ROOT

FLASK = str(Path(sys.executable).parent / "flask")
GENERATE = [sys.executable, str(ROOT / "bench" / "generate.py")]


def run_in_terminal(command: list[str], env: dict[str, str], timeout: float = 600) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr: its exit status and what it drew."""
    main, sub = pty.openpty()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=sub, stdout=sub, stderr=sub)
    os.close(sub)
    drawn = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([main], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: every process holding the terminal's other side has ended
                break
            if not chunk:
                break
            drawn += chunk
        return process.wait(timeout=10), drawn.decode()
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()


def counts(drawn: str, label: str, total: int) -> list[int]:
    """The counts the bar labelled ``label`` showed, in order: ``Label  [###---]  12/224``."""
    return [int(n) for n in re.findall(rf"{label}\s+\[[#-]+\]\s+(\d+)/{total}\b", drawn)]


def test_seed_demo_counts_its_products_on_a_terminal(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp_path / "media")}
    status, drawn = run_in_terminal([FLASK, "seed-demo"], env)
    assert status == 0, drawn
    shown = counts(drawn, "Demo products", PRODUCT_COUNT)
    assert shown[0] == 0 and shown[-1] == PRODUCT_COUNT == 224, drawn[-500:]
    assert shown == sorted(shown) and len(set(shown)) > 100  # it moves as the products are made
    # The bar ends on a line of its own, then the owners are listed as ever.
    assert drawn.rstrip().endswith("linus@shopapp.example  password: linus-demo-pass")
    assert "Traceback" not in drawn


@pytest.mark.postgres_only
def test_bench_generate_counts_products_on_a_terminal_and_prints_one_line_through_a_pipe() -> None:
    url = make_url(TEST_DATABASE_URL)
    database = url.set(database=f"{url.database}_generate").render_as_string(hide_password=False)
    env = {**os.environ}
    try:
        status, drawn = run_in_terminal(
            [*GENERATE, "--database-url", database, "--products", str(3 * PROGRESS_EVERY), "--replace"], env
        )
        assert status == 0, drawn
        assert counts(drawn, "Products", 3 * PROGRESS_EVERY) == [0, 10_000, 20_000, 30_000], drawn
        assert re.search(r"\ncopied 30000 products in \d+\.\ds\r?\n", drawn), drawn

        piped = subprocess.run(
            [*GENERATE, "--database-url", database, "--products", "2000", "--replace"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert piped.returncode == 0, piped.stderr
        assert re.fullmatch(r"copied 2000 products in \d+\.\ds\n", piped.stdout), piped.stdout
        assert piped.stderr == ""
    finally:
        base = plain_url(database).rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.database}_generate" WITH (FORCE)')
