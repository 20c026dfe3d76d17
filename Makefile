# ShopApp — the two commands a newcomer needs:
#   make run    set everything up and serve the app with demo data on http://127.0.0.1:5000
#   make test   set everything up and run the whole test suite
# Both are idempotent: a second run only does what changed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test setup setup-dev chromium nginx photos db lint bench bench-cpu bench-checkout bench-sitemap bench-export bench-import lighthouse screenshots clean

run: setup db
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: setup-dev
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.runtime static/vendor/.installed

setup-dev: setup $(VENV)/.dev chromium nginx photos

chromium:
	scripts/ensure-chromium.sh

# nginx in front of gunicorn, as in production (deploy/nginx.conf; tests/ops/test_slow_clients.py runs it).
nginx:
	scripts/ensure-nginx.sh

# Real photographs for the upload tests and bench/images.py (downloaded from Debian, kept in .cache/photos).
photos:
	scripts/ensure-photos.sh

db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo

$(VENV)/.runtime: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

NPM_MISSING := npm is not installed: the front-end packages (package-lock.json) need Node.js and npm. \
	On Debian or Ubuntu: sudo apt-get install nodejs npm

static/vendor/.installed: package.json package-lock.json scripts/copy-vendor.mjs
	$(if $(shell command -v npm 2>/dev/null),,$(error $(NPM_MISSING)))
	npm ci --no-audit --no-fund
	touch $@

# The benchmark table of the README (needs PostgreSQL, Redis and wrk; a million products take a few minutes to load).
bench: setup
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# CPU ms per request in process, uncached, at 10 000 products, beside the bare app (bench/cpu.py; under a minute).
bench-cpu: setup
	$(BIN)/python bench/cpu.py $(BENCH_ARGS)

# flask export-products over 10 000 and 100 000 products: time and peak RSS (bench/export.py; PostgreSQL only).
bench-export: setup
	$(BIN)/python bench/export.py $(BENCH_ARGS)

# flask import-products with 100 000 rows: dry run and apply of creates, then of updates (bench/import_products.py).
bench-import: setup
	$(BIN)/python bench/import_products.py $(BENCH_ARGS)

# Checkout under load at a million products (bench/checkout.py; its own load client, no wrk needed).
bench-checkout: setup
	$(BIN)/python bench/checkout.py $(BENCH_ARGS)

# The sitemap at a million products: index, one whole file, first byte, revalidation (bench/sitemap.py).
bench-sitemap: setup
	$(BIN)/python bench/sitemap.py $(BENCH_ARGS)

# Lighthouse's four scores on the catalog and a product page under gunicorn (bench/lighthouse.py; pinned in package.json).
lighthouse: setup-dev
	$(BIN)/python bench/lighthouse.py

# The README's pictures of the catalog and a product page, from the demo data (scripts/readme_screenshots.py).
screenshots: setup-dev
	$(BIN)/python scripts/readme_screenshots.py

lint: setup-dev
	$(BIN)/ruff check shopapp tests migrations bench scripts wsgi.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules static/vendor instance .cache
