"""A newcomer's usual mistakes end in one line that says what to do, never a traceback (README, "When it fails").

Each test runs the real command in a subprocess, as ``make run`` would (``flask db upgrade``, ``flask
seed-demo``, ``make`` itself) or as production does (gunicorn), and checks the one line, the exit status
and that no traceback was printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL
from tests.ops.serve import ROOT, free_port

FLASK = str(Path(sys.executable).parent / "flask")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
# Variables of the app that the developer's own environment must not lend these runs.
APP_VARIABLES = ("APP_ENV", "DATABASE_URL", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "CACHE_URL", "CACHE_TTL")
BAD_TTL = "Error: CACHE_TTL must be a whole number of seconds (at least 1), e.g. CACHE_TTL=60; got 'sixty'."

MAKE_VARIABLES = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")


def run(command: list[str], tmp_path: Path, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    # Nor make's own variables: under `make test` they would make a nested make print "Entering directory".
    base = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES + MAKE_VARIABLES}
    environment = base | {"FLASK_APP": "wsgi", "MEDIA_ROOT": str(tmp_path / "media"), **env}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


def the_one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed and said so in one line on stderr (and nothing on stdout): that line."""
    printed = result.stdout + result.stderr
    assert result.returncode != 0, printed
    assert "Traceback" not in printed, printed
    assert result.stdout == "", printed
    lines = result.stderr.splitlines()
    assert len(lines) == 1, printed
    return lines[0]


@pytest.mark.postgres_only
@pytest.mark.parametrize("command", [["db", "upgrade"], ["seed-demo"]])
def test_a_database_that_does_not_exist_says_how_to_create_it(tmp_path: Path, command: list[str]) -> None:
    server = make_url(TEST_DATABASE_URL)
    name = f"shopapp_missing_{uuid.uuid4().hex[:8]}"
    missing = server.set(database=name).render_as_string(hide_password=False)
    host, port = server.host or "localhost", server.port or 5432
    user = f" -U {server.username}" if server.username else ""
    line = the_one_line(run([FLASK, *command], tmp_path, DATABASE_URL=missing))
    assert line == (
        f'Error: The database "{name}" does not exist on {host}:{port} (DATABASE_URL). '
        f"Create it with: createdb -h {host} -p {port}{user} {name}"
    )


@pytest.mark.parametrize("command", [["db", "upgrade"], ["seed-demo"]])
def test_a_refused_connection_says_nothing_listens_there(tmp_path: Path, command: list[str]) -> None:
    port = free_port()  # bound and released at once: nothing listens there
    url = f"postgresql://postgres@127.0.0.1:{port}/shopapp"
    line = the_one_line(run([FLASK, *command], tmp_path, DATABASE_URL=url))
    assert line == (
        f"Error: Nothing accepts connections at 127.0.0.1:{port} (DATABASE_URL): start PostgreSQL there, "
        "or point DATABASE_URL at the server."
    )


def test_a_sqlite_file_in_a_missing_directory_is_named(tmp_path: Path) -> None:
    path = tmp_path / "no-such-directory" / "shopapp.db"
    line = the_one_line(run([FLASK, "db", "upgrade"], tmp_path, DATABASE_URL=f"sqlite:///{path}"))
    assert line == (
        f"Error: Cannot open the SQLite database {path} (DATABASE_URL): make sure its directory exists "
        "and may be written to."
    )


def test_an_unsupported_database_is_named_not_a_missing_command(tmp_path: Path) -> None:
    """``mysql://`` once ended in "No such command 'db'" (the app failed to import its driver)."""
    result = run([FLASK, "db", "upgrade"], tmp_path, DATABASE_URL="mysql://shop:s3cret@127.0.0.1/shop")
    line = the_one_line(result)
    assert line == (
        "Error: DATABASE_URL must be a sqlite:/// or postgresql:// URL (ShopApp runs on SQLite and PostgreSQL "
        "only); got a mysql:// URL."
    )
    assert "s3cret" not in line


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CACHE_TTL", "sixty", BAD_TTL),
        (
            "DATABASE_TIMEOUT_S",
            "2s",
            "Error: DATABASE_TIMEOUT_S must be a number of seconds, e.g. DATABASE_TIMEOUT_S=2; got '2s'.",
        ),
    ],
)
def test_a_bad_number_names_the_variable_and_what_it_must_be(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    line = the_one_line(run([FLASK, "seed-demo"], tmp_path, **{variable: value}))
    assert line == says


def test_gunicorn_stops_on_a_bad_setting_instead_of_restarting_its_worker(tmp_path: Path) -> None:
    """Exit status 4, gunicorn's "App failed to load": its master stops (a plain exit 1 made it boot
    the worker again every second, printing the same error forever)."""
    command = [GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"]
    result = run(command, tmp_path, CACHE_TTL="sixty")
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [BAD_TTL]
    assert "App failed to load" in result.stderr


def test_make_without_npm_says_what_to_install(tmp_path: Path) -> None:
    """``make run`` in a checkout where the Python side is done and npm is not on the PATH."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "package.json", "package-lock.json", "scripts/copy-vendor.mjs"):
        shutil.copy(ROOT / name, checkout / name)
    (checkout / ".venv").mkdir()
    (checkout / ".venv" / ".runtime").touch()  # newer than pyproject.toml: the virtualenv is up to date
    empty = tmp_path / "bin"
    empty.mkdir()
    make = shutil.which("make")
    assert make is not None
    result = run([make, "run"], tmp_path, cwd=checkout, PATH=str(empty))
    line = the_one_line(result)
    assert line.startswith("Makefile:") and line.endswith(
        "*** npm is not installed: the front-end packages (package-lock.json) need Node.js and npm. "
        "On Debian or Ubuntu: sudo apt-get install nodejs npm.  Stop."
    )
    assert not (checkout / "static").exists()
