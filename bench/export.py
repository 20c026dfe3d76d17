"""Time ``flask export-products`` over catalogs of N products and show that its memory stays flat.

Run: .venv/bin/python bench/export.py [--sizes 10000,100000]

Each size gets a PostgreSQL database from bench/run.py's loader (``prepare``: generated once by
bench/generate.py, then reused), named ``shopapp_bench_export_<size>``; every shop is then given to one owner
and every product made active and given a SKU, so that one owner's export holds every product. The command
runs in a process of its own with production settings, writing to a file; its wall time and peak RSS
(``wait4``'s ``ru_maxrss``) are measured, beside those of the same command exporting nothing (the app's own
start and footprint). The target (issue 17): 100 000 products in under 10 s, the peak RSS flat between sizes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import plain_url  # noqa: E402
from bench.run import prepare, production_env  # noqa: E402

PREFIX = "shopapp_bench_export"
OWNER = "owner1@bench.example"  # bench/generate.py's first owner
TARGET_S = 10.0
NO_MATCH = "no-such-product-zzzz"


def one_owner_with_skus(url: str) -> None:
    """Every shop the first owner's, every product active and with a SKU (idempotent), and fresh statistics: with
    the loader's (the owner's 3 shops of 300) the planner would read the owner's products whole for every batch."""
    with psycopg.connect(plain_url(url)) as conn:
        conn.execute("UPDATE shops SET owner_id = 1 WHERE owner_id <> 1")
        conn.execute("UPDATE products SET sku = 'SKU-' || id, is_active = true WHERE sku IS NULL OR NOT is_active")
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def run_export(env: dict[str, str], output: Path, *extra: str) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one ``flask export-products`` process."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "export-products", "--owner", OWNER]
    started = time.perf_counter()
    process = subprocess.Popen(  # our own command, no shell
        [*command, "--output", str(output), *extra], cwd=ROOT, env={**os.environ, **env}
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"export-products failed with status {process.returncode}")
    return elapsed, usage.ru_maxrss


def measure(size: int) -> dict[str, float]:
    url = prepare(size, PREFIX)
    one_owner_with_skus(url)
    with tempfile.TemporaryDirectory() as work:
        env = production_env(url, work)
        output = Path(work) / "products.csv"
        base_s, base_kib = run_export(env, output, "--q", NO_MATCH)
        seconds, peak_kib = run_export(env, output)
        with output.open(encoding="utf-8", newline="") as exported:
            rows = sum(1 for _ in exported) - 1  # lines: no generated description holds a newline
        megabytes = output.stat().st_size / 1e6
    return {
        "rows": rows,
        "seconds": seconds,
        "rss_mb": peak_kib / 1024,
        "base_s": base_s,
        "base_rss_mb": base_kib / 1024,
        "file_mb": megabytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'products':>9}{'rows':>9}{'file MB':>9}{'seconds':>9}{'rows/s':>9}{'peak RSS MB':>13}{'empty export':>22}")
    results = {}
    for size in sizes:
        r = results[size] = measure(size)
        empty = f"{r['base_s']:.2f} s, {r['base_rss_mb']:.0f} MB"
        print(
            f"{size:>9,}{r['rows']:>9,.0f}{r['file_mb']:>9.1f}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>9,.0f}"
            f"{r['rss_mb']:>13.0f}{empty:>22}"
        )
        sys.stdout.flush()
    largest = results[sizes[-1]]
    verdict = "OK" if largest["seconds"] < TARGET_S else "MISS"
    print(f"\n{sizes[-1]:,} products in {largest['seconds']:.2f} s (target < {TARGET_S:.0f} s): {verdict}")
    if len(sizes) > 1:
        small = results[sizes[0]]
        growth = largest["rss_mb"] - small["rss_mb"]
        peaks = f"{small['rss_mb']:.0f} MB at {sizes[0]:,}, {largest['rss_mb']:.0f} MB at {sizes[-1]:,}"
        print(f"peak RSS {peaks}: {growth:+.0f} MB")


if __name__ == "__main__":
    main()
