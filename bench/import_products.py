"""Time ``flask import-products`` with 100 000 rows on PostgreSQL: dry run and apply, rows/s, peak RSS.

Run: .venv/bin/python bench/import_products.py [--rows 100000] [--catalog 10000]

The database comes from bench/run.py's loader (``prepare``: a generated catalog of ``--catalog`` products in
other shops, reused by later runs), named ``shopapp_bench_import_<catalog>``. Each run adds an empty shop for
the loader's first owner and imports into it twice, each file first with ``--dry-run`` and then for real:
``--rows`` new products (every row a create: INSERTs), then the same file with every price changed (every
row an update of a product found by its SKU). Each command runs in a process of its own with production
settings, as bench/export.py runs the export; its wall time and peak RSS (``wait4``'s ``ru_maxrss``) are
measured. An apply includes its own dry run inside the transaction (products/imports.py). The target
(issue 17): 100 000 rows applied in under 60 s with under 300 MB peak.
"""

from __future__ import annotations

import argparse
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
from bench.run import prepare, production_env  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--catalog", type=int, default=10_000, help="Products of the other shops.")
    args = parser.parse_args()
    url = prepare(args.catalog, PREFIX)
    shop, category = new_shop(url)
    print(f"{args.rows:,} rows into an empty shop, beside {args.catalog:,} products of other shops")
    print(f"{'file':<10}{'step':<9}{'seconds':>9}{'rows/s':>10}{'peak RSS MB':>13}  summary")
    worst_s = worst_mb = 0.0
    with tempfile.TemporaryDirectory() as work:
        env = production_env(url, work)
        path = Path(work) / "products.csv"
        for label, cents in (("creates", 0), ("updates", 50)):
            write_file(path, args.rows, category, cents)
            for step, extra in (("dry run", ("--dry-run",)), ("apply", ())):
                seconds, peak_mb, summary = run_import(env, path, shop, *extra)
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
