"""Time each SQL statement of a catalog search with EXPLAIN ANALYZE, on a bench database.

Run: .venv/bin/python bench/explain_search.py --database-url postgresql://postgres@127.0.0.1/shopapp_bench lether

For every query word given it runs the catalog search as the app does (first page, relevance),
records the statements it sends, then runs each SELECT again under EXPLAIN (ANALYZE, BUFFERS)
and prints its execution time and the scans of its plan. Make the database with bench/generate.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shopapp import create_app  # noqa: E402
from shopapp.catalog.query import CatalogQuery, search_catalog  # noqa: E402
from shopapp.config import normalize_database_url  # noqa: E402
from shopapp.extensions import db  # noqa: E402

SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan) on \w+")


def explain(q: str) -> list[tuple[str, float, list[str]]]:
    """(statement's first words, execution ms, scans) for each SELECT the search for ``q`` sends."""
    recorded: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        recorded.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        total = search_catalog(CatalogQuery(q=q)).total
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    print(f"q={q!r}: {total} products")
    results = []
    for statement, parameters in recorded:
        rows = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = [row[0] for row in rows]
        ms = float(re.search(r"Execution Time: ([\d.]+) ms", plan[-1]).group(1))  # type: ignore[union-attr]
        scans = sorted({m.group(0) for line in plan for m in [SCAN.search(line)] if m})
        results.append((" ".join(statement.split()[:4]), ms, scans))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("queries", nargs="+")
    args = parser.parse_args()
    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": normalize_database_url(args.database_url)})
    with app.app_context():
        for q in args.queries:
            for head, ms, scans in explain(q):
                print(f"  {ms:9.2f} ms  {head[:40]:40}  {', '.join(scans)}")
        db.session.rollback()


if __name__ == "__main__":
    main()
