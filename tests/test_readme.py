"""The README runs as written: its API quick start, and what its intro says of the tests on SQLite.

The quick start is run with bash and curl against a served app with the demo catalog.

The database is as ``make run`` leaves it: migrated and filled by ``flask seed-demo``, so the first ids
belong to the demo owners and the block must use the ids its own calls return (it once created "product 1"
in a demo shop, and every later call was a 403). The block is read from README.md itself and run unchanged
but for a DEBUG trap put before it, which marks each command it runs with the exit status of the one
before, so that every answer is checked on its own: bodies, not only status codes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shopapp.demo import OWNERS, PRODUCT_COUNT, SHOPS
from tests.ops.serve import ROOT, gunicorn

FLASK = str(Path(sys.executable).parent / "flask")
MARK = "\n@@ "
# Before each command: a newline, the marker, the previous command's exit status and the command's text.
TRACE = 'trap \'printf "\\n@@ %s %s\\n" "$?" "$BASH_COMMAND"\' DEBUG\n'


def quick_start() -> str:
    """The first ``sh`` block under the README's "API quick start" heading."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## API quick start\n") :]
    start = section.index("\n```sh\n") + len("\n```sh\n")
    return section[start : section.index("\n```\n", start) + 1]


@dataclass
class Step:
    command: str
    output: str
    status: int

    def json(self) -> Any:
        return json.loads(self.output)


class Run:
    """The commands of one run of the block, each with what it printed and its exit status."""

    def __init__(self, output: str, returncode: int) -> None:
        chunks = output.split(MARK)[1:]
        self.steps: list[Step] = []
        for chunk, following in zip(chunks, [*chunks[1:], None], strict=True):
            head, _, printed = chunk.partition("\n")
            command = head.split(" ", 1)[1]
            status = int(following.split(" ", 1)[0]) if following is not None else returncode
            self.steps.append(Step(command, printed.strip(), status))

    def step(self, *fragments: str) -> Step:
        """The one command whose text holds every fragment."""
        found = [step for step in self.steps if all(fragment in step.command for fragment in fragments)]
        assert len(found) == 1, (fragments, [step.command for step in found])
        return found[0]


@pytest.fixture
def demo_api(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The API of the app served by gunicorn on a free port, over the demo catalog, in development mode."""
    env = {key: value for key, value in os.environ.items() if key not in ("CACHE_URL", "APP_ENV", "API")}
    env |= {"FLASK_APP": "wsgi", "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp_path / "media")}
    seeded = subprocess.run([FLASK, "seed-demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert seeded.returncode == 0, seeded.stderr
    # Through pipes, as here, seed-demo draws no progress bar (tests/test_progress.py has the terminal's).
    owners = "".join(f"  {email}  password: {password}\n" for email, _, password in OWNERS)
    assert seeded.stdout == "Demo catalog created. Demo shop owners (shown once):\n" + owners
    assert seeded.stderr == ""
    with gunicorn(env, "--workers", "1", "--threads", "4") as [(url, _)]:
        yield f"{url}/api/v1"


def test_the_quick_start_runs_as_written_on_the_demo_catalog(demo_api: str) -> None:
    block = quick_start()
    assert "API=${API:-http://127.0.0.1:5000/api/v1}" in block
    result = subprocess.run(
        ["bash", "-c", TRACE + block],
        cwd=ROOT,
        env={**os.environ, "API": demo_api},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # keep prints each answer it reads on stderr: in order, with the rest
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stdout, result.stdout
    run = Run(result.stdout, result.returncode)
    failed = [(step.command, step.status, step.output) for step in run.steps if step.status != 0]
    assert not failed

    # An account of one's own, beside the demo owners.
    user = run.step("/users/register").json()
    assert (user["email"], user["name"]) == ("ann@example.com", "Ann")
    assert run.step("TOKEN=").json()["access_token"]
    assert run.step("$API/users/me -H", "curl -s ").json() == user

    # A shop, a category tree and products of Ann's, under ids past the demo's.
    shop = run.step("SHOP=").json()
    assert (shop["name"], shop["owner_id"]) == ("Ann's Mugs", user["id"]) and shop["id"] > len(SHOPS)
    kitchen, mugs = run.step("KITCHEN=").json(), run.step("MUGS=").json()
    assert (kitchen["name"], kitchen["parent_id"], kitchen["owner_id"]) == ("Kitchen", None, user["id"])
    assert (mugs["name"], mugs["parent_id"]) == ("Mugs", kitchen["id"])
    mug = run.step("MUG=").json()
    assert mug["id"] > PRODUCT_COUNT
    assert (mug["shop_id"], mug["category_id"], mug["name"]) == (shop["id"], mugs["id"], "Blue mug")
    assert (mug["price"], mug["stock"]) == ("12.50", 10)
    teapot = run.step('"name": "Teapot"').json()
    assert (teapot["shop_id"], teapot["category_id"], teapot["price"], teapot["stock"]) == (
        shop["id"],
        kitchen["id"],
        "30.00",
        0,
    )

    # The catalog: the filter finds the mug under the sub-category and leaves the teapot out (no stock).
    filtered = run.step("category_id=$KITCHEN&in_stock=true").json()
    assert [item["name"] for item in filtered["items"]] == ["Blue mug"] and filtered["total"] == 1
    found = run.step("q=mug&max_price=20").json()
    names = [item["name"] for item in found["items"]]
    assert "Blue mug" in names and len(names) > 1, names  # and the demo's mugs
    assert all(Decimal(item["price"]) <= 20 for item in found["items"])

    # Edits: the ETag names the version; a stale If-Match is a 412 and writes nothing.
    assert re.fullmatch(rf'etag: "{mug["id"]}-1"', run.step("grep -i etag").output, re.IGNORECASE)
    assert run.step('"price": "11.00"').json()["price"] == "11.00"
    fresh, stale = run.step("If-Match: $ETAG", '"stock": 8'), run.step("If-Match: $ETAG", '"stock": 7')
    assert (fresh.json()["stock"], fresh.json()["price"]) == (8, "11.00")
    assert stale.json()["status"] == 412 and "stock" not in stale.json()
    assert run.step('"delta": -3').json()["stock"] == 5

    # Images: one, then two at once, one renamed, then all three reordered.
    photo = run.step("PHOTO=").json()
    assert photo["alt"] == "Blue mug on a table"
    more = run.step("MORE=").json()
    assert [image["alt"] for image in more] == ["Front", "Side"]
    renamed = run.step("/images/$PHOTO").json()
    assert (renamed["id"], renamed["alt"]) == (photo["id"], "Blue mug, handle left")
    ordered = run.step("/images/order").json()
    assert [image["id"] for image in ordered] == [more[0]["id"], more[1]["id"], photo["id"]]
    assert [image["position"] for image in ordered] == [0, 1, 2]

    # Soft delete and restore.
    assert run.step("-X DELETE").output == "204"
    assert [item["name"] for item in run.step("status=deleted").json()["items"]] == ["Blue mug"]
    restored = run.step("/restore").json()
    assert (restored["id"], restored["name"], restored["stock"]) == (mug["id"], "Blue mug", 5)

    # A purchase from Ann's own shop: one order, the stock taken, then paid and shipped by the owner.
    cart = run.step("/cart/items/$MUG").json()
    assert (cart["item_count"], cart["subtotal"], cart["items"][0]["product"]["id"]) == (2, "22.00", mug["id"])
    placed = run.step("ORDER=").json()
    [order] = placed["orders"]
    assert (order["status"], order["total"], placed["total"], order["shop"]["id"]) == (
        "placed",
        "22.00",
        "22.00",
        shop["id"],
    )
    assert order["shipping_address"]["country"] == "DE" and order["items"][0]["quantity"] == 2
    listed = run.step("/orders?status=placed").json()
    assert [item["number"] for item in listed["items"]] == [order["number"]]
    assert run.step("/mark-paid").json()["status"] == "paid"
    shipped = run.step("/ship").json()
    assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "TRACK-1")
    read = run.step("curl -s $API/orders/$ORDER").json()
    assert (read["id"], read["status"], read["paid_at"] is not None) == (order["id"], "shipped", True)

    # Log out: the token stops working.
    assert run.step("/users/logout").output == "204"
    refused = run.step("curl -si $API/users/me").output
    assert refused.startswith("HTTP/1.1 401")
    assert re.search(r"^www-authenticate: Bearer", refused, re.IGNORECASE | re.MULTILINE)
    assert re.search(r"^content-type: application/problem\+json", refused, re.IGNORECASE | re.MULTILINE)
    assert json.loads(refused.split("\n\n", 1)[1])["status"] == 401


def test_the_intro_counts_the_postgresql_only_tests_and_names_their_files() -> None:
    """It said "every test runs on both" while the SQLite run left out the tests marked ``postgres_only``."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "postgres_only", "-p", "no:cacheprovider"],
        cwd=ROOT,
        # Collection only: nothing connects, the URL makes it a PostgreSQL run, which keeps the postgres_only tests.
        env={**os.environ, "TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/collection_only"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    tests = [line for line in collected.stdout.splitlines() if "::" in line]
    files = {Path(test.split("::")[0]).name for test in tests}
    intro = " ".join((ROOT / "README.md").read_text().split("\n![", 1)[0].split())
    assert f"but for {len(tests)} tests marked `postgres_only`" in intro, len(tests)
    assert [name for name in sorted(files) if name not in intro] == []
