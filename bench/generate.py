"""Load a realistic catalog of N products into a throwaway PostgreSQL database, fast (COPY).

Run: .venv/bin/python bench/generate.py --database-url postgresql://postgres@127.0.0.1/shopapp_bench --products 1000000

The database is created if missing and migrated with the project's migrations; it must be empty of
products (use --replace to drop and recreate it). Names and descriptions come from the demo vocabulary,
with a few words made common (in ~1 in 5 rows) and one rare (in 1 in 20 000, the first row included, so a
small catalog has it too and the rare-word scenario measures the same work at every size) for the search scenarios.
On a terminal a progress bar counts the products copied (a million take about two minutes); through a pipe or
into a file only the closing line is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shopapp.cli import progress_bar  # noqa: E402
from shopapp.config import normalize_database_url  # noqa: E402
from shopapp.demo import CATEGORY_TREE, COLOURS, DETAILS, ITEMS  # noqa: E402

COMMON_WORD = "leather"
RARE_WORD = "heirloom"
RARE_EVERY = 20_000
PROGRESS_EVERY = 10_000  # rows between two redraws of the bar
SHOPS = 300
EXTRA_DETAILS = [
    "Finished with a full-grain leather trim.",
    "Lined with soft organic cotton.",
    "Comes with a two-year guarantee.",
    "Each one is numbered and signed.",
]


def plain_url(url: str) -> str:
    return normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")


def ensure_database(url: str, replace: bool) -> None:
    base, name = plain_url(url).rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and replace:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "APP_ENV": "development"}
    subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows) -> None:  # type: ignore[no-untyped-def]
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate(url: str, products: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with psycopg.connect(plain_url(url)) as conn:
        if conn.execute("SELECT count(*) FROM products").fetchone()[0]:
            raise SystemExit("the database already has products; use --replace")
        from argon2 import PasswordHasher

        password_hash = PasswordHasher().hash("bench-password")
        owners = SHOPS // 3
        copy_rows(
            conn,
            "users",
            ["id", "email", "name", "password_hash", "created_at", "updated_at"],
            ((i, f"owner{i}@bench.example", f"Owner {i}", password_hash, now, now) for i in range(1, owners + 1)),
        )
        copy_rows(
            conn,
            "shops",
            ["id", "owner_id", "name", "slug", "description", "created_at", "updated_at"],
            (
                (i, (i - 1) % owners + 1, f"Bench Shop {i}", f"bench-shop-{i}", "A shop for benchmarks.", now, now)
                for i in range(1, SHOPS + 1)
            ),
        )
        categories, leaves = [], []
        next_id = 1
        for top, children in CATEGORY_TREE.items():
            top_id = next_id
            categories.append((top_id, None, 1, top, top.lower().replace(" ", "-"), now, now))
            next_id += 1
            for child in children:
                categories.append((next_id, top_id, 1, child, child.lower().replace(" ", "-"), now, now))
                leaves.append((next_id, child))
                next_id += 1
        copy_rows(
            conn, "categories", ["id", "parent_id", "owner_id", "name", "slug", "created_at", "updated_at"], categories
        )

        def product_rows(bar):  # type: ignore[no-untyped-def]
            for i in range(1, products + 1):
                category_id, leaf = leaves[rng.randrange(len(leaves))]
                nouns, adjectives = ITEMS[leaf]
                name = f"{rng.choice(COLOURS)} {rng.choice(adjectives)} {rng.choice(nouns)} {i:x}"
                details = [rng.choice(DETAILS), rng.choice(DETAILS)]
                if rng.random() < 0.2:
                    details.append(EXTRA_DETAILS[0])
                if i % RARE_EVERY == 1:
                    details.append(f"An {RARE_WORD} piece.")
                created = now - timedelta(seconds=rng.randrange(0, 2 * 365 * 24 * 3600))
                yield (
                    i,
                    rng.randrange(1, SHOPS + 1),
                    category_id,
                    name,
                    f"item-{i}",
                    f"{name}. {' '.join(details)}",
                    f"{rng.randrange(199, 50000) / 100:.2f}",
                    rng.choice([0, 0, 1, 3, 8, 20, 60, 150]),
                    rng.random() > 0.03,
                    created,
                    created,
                )
                bar.update(1)

        started = time.perf_counter()
        with progress_bar("Products", products, every=PROGRESS_EVERY) as bar:
            copy_rows(
                conn,
                "products",
                [
                    "id",
                    "shop_id",
                    "category_id",
                    "name",
                    "slug",
                    "description",
                    "price",
                    "stock",
                    "is_active",
                    "created_at",
                    "updated_at",
                ],
                product_rows(bar),
            )
        for table in ("users", "shops", "categories", "products"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        print(f"copied {products} products in {time.perf_counter() - started:.1f}s")
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--replace", action="store_true")
    args = parser.parse_args()
    ensure_database(args.database_url, args.replace)
    generate(args.database_url, args.products)


if __name__ == "__main__":
    main()
