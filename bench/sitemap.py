"""Time the sitemap at N products: the index, one whole sitemap file, its first byte and a revalidation.

Run: .venv/bin/python bench/sitemap.py [--size 1000000] [--repeat 3]

The catalog is loaded (or reused) by bench/run.py's ``prepare`` (bench/generate.py's COPY loader), ShopApp runs
under gunicorn with production settings and no shared cache (every answer built), and each address is asked
``--repeat`` times over a fresh connection; the median is printed.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import gunicorn, prepare, production_env  # noqa: E402
from shopapp.seo.sitemap import NAMESPACE  # noqa: E402


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes, float, float]:
    """(status, headers, body, seconds to the first body byte, seconds to the last)."""
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    first = response.read(1)
    first_byte = time.perf_counter() - started
    body = first + response.read()
    total = time.perf_counter() - started
    conn.close()
    return response.status, dict(response.getheaders()), body, first_byte, total


def timed(
    base: str, path: str, repeat: int, headers: dict[str, str] | None = None
) -> tuple[bytes, dict[str, str], float, float]:
    runs = [fetch(base, path, headers) for _ in range(repeat)]
    status, answer_headers, body, _, _ = runs[-1]
    assert status in (200, 304), (path, status)
    return body, answer_headers, statistics.median(r[3] for r in runs), statistics.median(r[4] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = prepare(args.size)
    with tempfile.TemporaryDirectory() as media, gunicorn("wsgi:app", production_env(url, media), 4) as base:
        index, _, _, index_s = timed(base, "/sitemap.xml", args.repeat)
        files = [entry.findtext(f"{{{NAMESPACE}}}loc") or "" for entry in ET.fromstring(index)]  # noqa: S314
        first_products = next(f for f in files if "/sitemaps/products-" in f)
        path = urlsplit(first_products).path
        body, headers, first_byte_s, file_s = timed(base, path, args.repeat)
        urls = body.count(b"<url>")
        _, _, _, revalidate_s = timed(base, path, args.repeat, {"If-None-Match": headers["ETag"]})
    print(f"\nsitemap at {args.size:,} products (median of {args.repeat}, gunicorn, no shared cache)")
    print(f"{'index (' + str(len(files)) + ' files)':<40}{index_s * 1000:>9.0f} ms")
    print(f"{path + f' ({urls:,} URLs, {len(body) / 1e6:.1f} MB)':<40}{file_s * 1000:>9.0f} ms")
    print(f"{'  first byte':<40}{first_byte_s * 1000:>9.0f} ms")
    print(f"{'  revalidation (304)':<40}{revalidate_s * 1000:>9.0f} ms")


if __name__ == "__main__":
    main()
