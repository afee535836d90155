# Two commands: `make run` serves the app, `make test` passes the tests; both set everything up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test test-pgbouncer lint format bench eval migrate

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

eval: install
	$(PY) scripts/with_redis.py -- $(PY) bench/eval/recall.py
	$(PY) scripts/with_redis.py -- $(PY) bench/eval/remember.py
