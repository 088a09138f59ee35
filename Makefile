# Practika — the two commands a developer needs:
#
#   make dev    run everything locally (embedded PostgreSQL, web server, worker, demo data)
#   make test   run the test suite (embedded PostgreSQL in its own data folder)
#
# Only Python 3.11+ and make are required. The virtualenv lives in .venv and is filled from
# requirements-dev.lock (requirements.lock is the production image's); a stamp (a copy of the lock that was installed, dated from
# before the install began) makes a second run skip the install, and a lock edited since
# makes the next run install again.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# make dev and make test may run at the same time: each gets its own embedded PostgreSQL.
PRACTIKA_TEST_PG_DIR ?= $(CURDIR)/.data/postgres-test
PRACTIKA_BENCH_PG_DIR ?= $(CURDIR)/.data/postgres-bench
# The pages' browser libraries are built from frontend/ into templates/static/vendor/ (see below).
FRONTEND := frontend
VENDOR_STAMP := templates/static/vendor/.built

.DEFAULT_GOAL := help
.PHONY: help dev test lint bench chromium node npm frontend wrk clean-venv

help:
	@echo "make dev     run Practika at http://localhost:8000 (Ctrl-C stops everything)"
	@echo "make test    run the test suite: pytest (not the 'services' tests) and node --test tests/js/"
	@echo "make lint    ruff, import contracts, missing migrations, deploy checks"
	@echo "make bench   run every bench/*.py (prints BENCH <name> <value> <unit> lines)"
	@echo "make frontend  build the pages' browser libraries (Uppy, uPlot) into templates/static/vendor"

$(PY):
	$(PYTHON) -c 'import sys; sys.exit("Practika needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)

# --no-deps: the lock is the whole set (as in the Dockerfile); basic-pitch's TensorFlow, which
# its ONNX inference does not need, is overridden out of it in pyproject.toml.
$(VENV)/.installed-dev: requirements-dev.lock | $(PY)
	@cp requirements-dev.lock $@.tmp
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $@.tmp
	@mv $@.tmp $@

# `exec` so that the launcher is make's direct child: make passes SIGTERM on to it, and the
# launcher stops the web server, the worker and the embedded PostgreSQL before it exits.
dev: $(VENV)/.installed-dev $(VENDOR_STAMP)
	@PYTHONPATH=platform exec $(PY) -m config.devserver

chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update && apt-get install -y chromium; \
	else \
		echo "The browser tests need Debian's chromium at /usr/bin/chromium." >&2; \
		echo "Install it with: sudo apt-get install -y chromium" >&2; \
		exit 1; \
	fi

# The pages' pure JavaScript (time maps, clocks, formatting) is tested with Debian's Node
# (`node --test`, no npm packages), against fixtures that pytest writes from the Python code.
node:
	@if command -v node >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's nodejs for the JavaScript tests..."; \
		apt-get update && apt-get install -y nodejs; \
	else \
		echo "The JavaScript tests need Node 20 or newer (Debian: sudo apt-get install -y nodejs)." >&2; \
		exit 1; \
	fi

npm: node
	@if command -v npm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's npm for the front end's packages..."; \
		apt-get update && apt-get install -y npm; \
	else \
		echo "The front end's packages need npm (Debian: sudo apt-get install -y npm)." >&2; exit 1; \
	fi

# npm packages the browser tests inject into pages (axe-core), from their lock file; a stamp
# (a copy of the lock that was installed) makes a second run skip the install.
BROWSER_TOOLS := tests/browser-tools
$(BROWSER_TOOLS)/node_modules/.installed: $(BROWSER_TOOLS)/package-lock.json | npm
	cd $(BROWSER_TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	@cp $(BROWSER_TOOLS)/package-lock.json $@

# The pages' browser libraries (Uppy, uPlot), pinned in frontend/package-lock.json: `npm ci`,
# then frontend/build.mjs bundles Uppy with esbuild and copies uPlot into
# templates/static/vendor/ (generated, git-ignored; the Dockerfile builds it in a node stage).
# The stamp is rebuilt when the lock, the build script or the entry module changes.
$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package-lock.json | npm
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@cp $(FRONTEND)/package-lock.json $@
$(VENDOR_STAMP): $(FRONTEND)/node_modules/.installed $(FRONTEND)/build.mjs $(wildcard $(FRONTEND)/src/*.js)
	cd $(FRONTEND) && node build.mjs
	@touch $@
frontend: $(VENDOR_STAMP)

# The embedded test server is stopped afterwards so that no process is left behind; its data
# folder (and so --reuse-db's test database) stays for the next run. pytest runs first: it
# checks that the JavaScript tests' fixtures are what the Python code computes now.
test: $(VENV)/.installed-dev chromium node $(BROWSER_TOOLS)/node_modules/.installed $(VENDOR_STAMP)
	@status=0; \
	PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_TEST_PG_DIR)" $(VENV)/bin/pytest -m "not services" $(PYTEST_ARGS) || status=$$?; \
	PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_TEST_PG_DIR)" PYTHONPATH=platform $(PY) -m config.embedded_db stop; \
	node --test tests/js/ || status=$$?; \
	exit $$status

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	PYTHONPATH=platform:. $(VENV)/bin/lint-imports
	PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_TEST_PG_DIR)" DJANGO_SETTINGS_MODULE=config.settings.test \
		$(PY) manage.py makemigrations --check --dry-run
	@for urlconf in config.urls_public config.urls_tenants; do \
		PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_TEST_PG_DIR)" DJANGO_SETTINGS_MODULE=config.settings.test \
		$(PY) manage.py spectacular --urlconf $$urlconf --validate --fail-on-warn --file /dev/null \
		|| exit 1; done
	@PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_TEST_PG_DIR)" PYTHONPATH=platform $(PY) -m config.embedded_db stop
	DJANGO_SETTINGS_MODULE=config.settings.production \
		DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		PRACTIKA_BASE_DOMAIN=practika.app DATABASE_URL=postgresql://x@localhost/x \
		$(PY) manage.py check --deploy --fail-level WARNING

# Each run starts from an empty bench database, so that an interrupted run leaves nothing
# (half-dropped schemas, stray tenants) to skew the next one.
# (bench/pages.py is the exception: it keeps its seeded tenant in a database of its own on the
# machine's PostgreSQL, see its docstring.)
# bench/pages.py loads the pages with Debian's wrk.
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's wrk for the page benchmark..."; \
		apt-get update && apt-get install -y wrk; \
	else \
		echo "The page benchmark needs wrk (Debian: sudo apt-get install -y wrk)." >&2; \
		exit 1; \
	fi

bench: $(VENV)/.installed-dev chromium node wrk $(VENDOR_STAMP)
	@PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_BENCH_PG_DIR)" PYTHONPATH=platform $(PY) -m config.embedded_db stop; \
	rm -rf "$(PRACTIKA_BENCH_PG_DIR)"; \
	status=0; \
	for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		echo "# $$script"; \
		PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_BENCH_PG_DIR)" PYTHONPATH=platform:. \
			$(PY) "$$script" || status=1; \
	done; \
	PRACTIKA_EMBEDDED_PG_DIR="$(PRACTIKA_BENCH_PG_DIR)" PYTHONPATH=platform $(PY) -m config.embedded_db stop; \
	exit $$status

clean-venv:
	rm -rf $(VENV)
