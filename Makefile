# Two commands: `make run` serves the app, `make test` passes the tests; both set everything up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test test-pgbouncer test-browser lint format bench bench-scale bench-load eval migrate

# The Python client and MCP server (sdk/) are installed too: their tests run in the suite.
$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(PY) -m pip install --quiet --disable-pip-version-check -e "./sdk[mcp]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) scripts/run.py

test: install
	$(PY) scripts/with_redis.py -- $(VENV)/bin/pytest $(PYTEST_ARGS)

# The whole suite through pgBouncer in transaction-pooling mode (installs the Debian package
# pgbouncer with apt-get when missing; see scripts/with_pgbouncer.py).
test-pgbouncer: install
	$(PY) scripts/with_redis.py -- $(PY) scripts/with_pgbouncer.py -- $(VENV)/bin/pytest $(PYTEST_ARGS)

# The curator's console in headless Chromium through Selenium (browser_tests/, not collected by
# `make test`): installs the Debian packages chromium and chromium-driver with apt-get when
# missing (scripts/with_chromium.py); screenshots in .data/screenshots/.
test-browser: install
	$(PY) scripts/with_redis.py -- $(PY) scripts/with_chromium.py -- $(VENV)/bin/pytest browser_tests $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install
	$(PY) manage.py migrate

bench: install
	$(PY) scripts/with_redis.py -- $(PY) bench/run.py

# Retrieval as one spirit grows to a million memories among others (issue 19; ~20 minutes and
# ~6 GB of disk, not in CI): search and pack p50/p95 against their bare SQL, index sizes and
# build times (docs/benchmarks.md, "Scale").
bench-scale: install
	$(PY) scripts/with_redis.py -- $(PY) bench/run.py --case retrieval --retrieval-steps 100000,300000,1000000

# A load test of a running server (`make run` in another terminal, by default): locust clients
# ingest and ask for packs and searches at 5, 20 and 50 clients, then every acknowledged event is
# checked to be stored once (docs/benchmarks.md, "Load"). ELEPHANTASM_URL, ELEPHANTASM_API_KEYS
# and LOAD_ARGS (e.g. LOAD_ARGS="--clients 10,100 --duration 60") choose.
LOAD_ARGS ?=
bench-load: install
	$(PY) bench/load/run.py $(LOAD_ARGS)

eval: install
	$(PY) scripts/with_redis.py -- $(PY) bench/eval/recall.py
	$(PY) scripts/with_redis.py -- $(PY) bench/eval/remember.py
