"""Lighthouse on the catalog page and one product page, served as in production.

Run: .venv/bin/python bench/lighthouse.py  (or ``make lighthouse``)

Seeds the demo data (``flask db upgrade`` and ``flask seed-demo``) into a throwaway SQLite database, starts ShopApp
under gunicorn with production settings (bench/run.py's) on a free port and runs the pinned Lighthouse
(package.json) with Debian's chromium, headless, against 127.0.0.1 only: nothing is fetched from elsewhere.
Prints the four category scores of each page and, for a score under its target (100; performance 95), the
audits that failed. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import gunicorn, production_env  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95}  # the others: 100
_PRODUCT_LINK = re.compile(r'href="(/products/\d+-[a-z0-9-]+)"')


def seed(env: dict[str, str]) -> None:
    flask = str(Path(sys.executable).parent / "flask")
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([flask, "--app", "wsgi", *command], cwd=ROOT, env={**os.environ, **env}, check=True,
                       capture_output=True)  # fmt: skip


def lighthouse(url: str) -> dict:  # type: ignore[type-arg]
    command = [
        "npx", "--no-install", "lighthouse", url, f"--chrome-path={CHROMIUM}",
        "--chrome-flags=--headless=new --no-sandbox", "--output=json", "--output-path=stdout", "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def report(name: str, result: dict) -> bool:  # type: ignore[type-arg]
    """Print the scores and what failed; whether every target was met."""
    met = True
    scores = {key: round(result["categories"][key]["score"] * 100) for key in CATEGORIES}
    print(f"\n{name}: " + "  ".join(f"{key} {score}" for key, score in scores.items()))
    for key, score in scores.items():
        if score >= TARGETS.get(key, 100):
            continue
        met = False
        for ref in result["categories"][key]["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if audit["score"] is not None and audit["score"] < 1 and audit["scoreDisplayMode"] not in ("manual",):
                shown = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
                print(f"  {key}: {audit['id']}: {audit['title']}{shown}")
    return met


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = production_env(f"sqlite:///{tmp}/lighthouse.db", f"{tmp}/media")
        seed(env)
        with gunicorn("wsgi:app", env, 4) as base:
            with urllib.request.urlopen(f"{base}/", timeout=10) as response:  # noqa: S310 - loopback only
                catalog = response.read().decode()
            match = _PRODUCT_LINK.search(catalog)
            assert match, "no product link on the catalog page"
            pages = {"catalog": f"{base}/", "product page": base + match.group(1)}
            results = {name: lighthouse(url) for name, url in pages.items()}
    met = [report(name, result) for name, result in results.items()]
    raise SystemExit(0 if all(met) else 1)


if __name__ == "__main__":
    main()
