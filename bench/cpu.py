"""CPU milliseconds per request, in process: ShopApp without the shared cache beside the bare app.

Run: .venv/bin/python bench/cpu.py [--size 10000] [--requests 100] [--runs 5]

Throughput under gunicorn (bench/run.py) mixes ShopApp's own work with PostgreSQL's, the load generator's and
the scheduler's on 2 shared cores. This counts only the Python process's CPU (``time.process_time``: user and
system time of this process, PostgreSQL's work is not in it) for each scenario's address, through Flask's test
client: the app is built as ``wsgi:app`` is in production (bench/run.py's ``production_env``) without
``CACHE_URL``, so every request does all its work, against a catalog of ``--size`` products (bench/run.py's
``prepare``). Each scenario is asked ``--requests`` times after a warm-up, ``--runs`` times; the median run is
printed, per request. The bare app (bench/bare_app.py: ``SELECT 1`` through SQLAlchemy) is the floor.

Every answer must be 200 with the body the scenario is about (a product, a page of matches, the catalog page
or its fragment), so a broken scenario cannot pass for a fast one. The search limit per client address is
raised, not lifted: every request still counts in the limiter's store (Redis), as in production.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import COMMON_WORD, RARE_WORD  # noqa: E402
from bench.run import BARE, prepare, production_env, scenarios  # noqa: E402

WARM_UP = 20  # requests per scenario before the measured runs (imports, caches of compiled queries, pools)
HTMX_FRAGMENT = "html catalog search, htmx fragment"
Check = Callable[[Any], None]


def _api_product(product_id: int) -> Check:
    def check(response: Any) -> None:
        assert response.get_json()["id"] == product_id, response.get_data(as_text=True)[:200]

    return check


def _api_page(*needles: str) -> Check:
    def check(response: Any) -> None:
        body = response.get_json()
        assert body["items"] and body["total"] > 0, response.get_data(as_text=True)[:200]
        for needle in needles:
            assert needle in response.get_data(as_text=True).lower(), needle

    return check


def _html(*needles: str, page: bool) -> Check:
    def check(response: Any) -> None:
        text = response.get_data(as_text=True)
        assert ("<html" in text) == page, text[:200]
        for needle in needles:
            assert needle in text.lower(), (needle, text[:200])

    return check


def cpu_scenarios(url: str) -> dict[str, tuple[str, dict[str, str], Check]]:
    """bench/run.py's addresses, the catalog search also as the htmx fragment: (path, headers, body check)."""
    paths = scenarios(url)
    product_path = paths["api single product"]
    product_id = int(product_path.rsplit("/", 1)[1])
    cards = (COMMON_WORD, 'class="product-card"')
    return {
        "api single product": (product_path, {}, _api_product(product_id)),
        "api search, rare word": (paths["api search, rare word"], {}, _api_page(RARE_WORD)),
        "api search, common word": (paths["api search, common word"], {}, _api_page(COMMON_WORD)),
        "api filtered listing": (paths["api filtered listing"], {}, _api_page()),
        "html product page": (paths["html product page"], {}, _html(paths["html product page"], page=True)),
        "html catalog search": (paths["html catalog search"], {}, _html(*cards, page=True)),
        HTMX_FRAGMENT: (paths["html catalog search"], {"HX-Request": "true"}, _html(*cards, page=False)),
    }


def cpu_ms(client: Any, path: str, headers: dict[str, str], check: Check, requests: int, runs: int) -> float:
    """The median over ``runs`` of the CPU milliseconds per request of ``requests`` GETs of ``path``."""
    for _ in range(WARM_UP):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:200])
        check(response)
    per_request = []
    for _ in range(runs):
        started = time.process_time()
        for _ in range(requests):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        per_request.append((time.process_time() - started) * 1000 / requests)
        check(response)
    return statistics.median(per_request)


def measure(size: int, requests: int, runs: int) -> dict[str, float]:
    """CPU ms per request of the bare app, then of every scenario of ShopApp without the shared cache."""
    url = prepare(size)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as media:
        env = production_env(url, media)  # with the search limit counted, never reached
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            bare = importlib.import_module("bench.bare_app").app
            results[BARE] = cpu_ms(bare.test_client(), "/", {}, _bare_check, requests, runs)
            from shopapp import create_app

            app = create_app()
            client = app.test_client()
            for name, (path, headers, check) in cpu_scenarios(url).items():
                results[name] = cpu_ms(client, path, headers, check, requests, runs)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return results


def _bare_check(response: Any) -> None:
    assert response.get_json() == {"value": 1}


def print_table(size: int, results: dict[str, float], requests: int, runs: int) -> None:
    bare = results[BARE]
    print(
        f"\nCPU per request, in process (time.process_time), {size:,} products, no shared cache — "
        f"Flask test client, median of {runs} runs of {requests} requests"
    )
    print(f"{'scenario':<38}{'CPU ms':>9}{'x bare':>8}")
    for name, ms in results.items():
        print(f"{name:<38}{ms:>9.3f}{ms / bare:>8.1f}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print_table(args.size, measure(args.size, args.requests, args.runs), args.requests, args.runs)


if __name__ == "__main__":
    main()
