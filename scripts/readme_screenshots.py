"""The README's pictures of the catalog and a product page, taken from the demo data as a newcomer sees it.

Run: .venv/bin/python scripts/readme_screenshots.py  (or ``make screenshots``)

Seeds the demo data into a throwaway SQLite database, serves it with gunicorn under production settings (as
bench/lighthouse.py does) and photographs, with Debian's chromium: the catalog searching for "mug" at 1280 px
(docs/screenshots/catalog.png) and at 390 px (catalog-phone.png), and the first result's product page at 1280 px
(product.png). The cart and the owner's order page come from tests/browser/test_orders_in_browser.py, run with
``README_SCREENSHOTS=1``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lighthouse import CHROMIUM, seed  # noqa: E402
from bench.run import gunicorn, production_env  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = production_env(f"sqlite:///{tmp}/screenshots.db", f"{tmp}/media")
        seed(env)
        with gunicorn("wsgi:app", env, 4) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"])
            page = browser.new_page(viewport=DESKTOP, base_url=base)
            page.goto("/?q=mug")
            page.screenshot(path=str(OUT / "catalog.png"))
            product = page.locator(".listing a[href^='/products/']").first.get_attribute("href")
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(OUT / "catalog-phone.png"))
            page.set_viewport_size(DESKTOP)
            page.goto(str(product))
            page.screenshot(path=str(OUT / "product.png"), full_page=True)
            browser.close()
    print(f"saved catalog.png, catalog-phone.png and product.png in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
