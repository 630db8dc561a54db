# Two commands: `make run` installs and starts Frontdesk; `make test` checks everything.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

# Where `make run` keeps its database, secret key and uploads.
FRONTDESK_HOME ?= $(CURDIR)/.frontdesk
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_MARKER := $(FRONTDESK_HOME)/demo-loaded

# The PostgreSQL server `make test` runs the suite against a second time;
# pytest-django creates and drops test_<name> there.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/frontdesk

LINT_PATHS := src tests tools $(wildcard bench)

# Tests never see a developer's data dir, database, Redis or secret key: each
# recipe line gets a scratch FRONTDESK_HOME (in $$home) that is removed afterwards.
SCRATCH = home="$$(mktemp -d)"; trap 'rm -rf "$$home"' EXIT;
TEST_ENV = env -u FRONTDESK_DATABASE_URL -u FRONTDESK_REDIS_URL -u FRONTDESK_SECRET_KEY_FILE \
	-u FRONTDESK_TEST_SQLITE_NAME FRONTDESK_HOME="$$home" FRONTDESK_SECRET_KEY=test-only-secret-key

.PHONY: help install run test lint check-writes test-sqlite test-postgres messages clean

help:
	@echo "make run            install, init, load demo data once, serve at http://$(HOST):$(PORT)"
	@echo "make test           ruff, mypy, import contracts, write check, pytest on SQLite and PostgreSQL"
	@echo "make lint           only the static checks"
	@echo "make test-sqlite    only pytest on SQLite"
	@echo "make test-postgres  only pytest on PostgreSQL ($(TEST_POSTGRES_URL))"
	@echo "make messages       refresh the translation catalogues from the source (needs GNU gettext)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# Front-end packages (htmx) from npm, exactly as package-lock.json pins them.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)
	$(BIN)/python tools/compile_messages.py

run: install
	FRONTDESK_HOME="$(FRONTDESK_HOME)" $(BIN)/frontdesk init </dev/null
	@if [ ! -e "$(DEMO_MARKER)" ]; then \
		FRONTDESK_HOME="$(FRONTDESK_HOME)" $(BIN)/frontdesk demo && touch "$(DEMO_MARKER)"; \
	fi
	FRONTDESK_HOME="$(FRONTDESK_HOME)" $(BIN)/frontdesk serve --host $(HOST) --port $(PORT)

test: lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(SCRATCH) $(TEST_ENV) $(BIN)/mypy $(LINT_PATHS)
	$(SCRATCH) $(TEST_ENV) $(BIN)/lint-imports
	$(SCRATCH) $(TEST_ENV) $(BIN)/python tools/check_writes.py src

check-writes: install
	$(SCRATCH) $(TEST_ENV) $(BIN)/python tools/check_writes.py src

# The SQLite test database is a file, not memory, so it runs in WAL mode with the
# busy timeout as in production, and tests with worker threads can share it.
test-sqlite: install
	$(SCRATCH) $(TEST_ENV) FRONTDESK_TEST_SQLITE_NAME="$$home/test.sqlite3" $(BIN)/pytest -q

test-postgres: install
	$(SCRATCH) $(TEST_ENV) FRONTDESK_DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest -q

# New strings land in every catalogue as untranslated entries; the tests fail
# until each is translated (tools/messages.py check lists them).
messages: install
	cd src/frontdesk && $(SCRATCH) $(TEST_ENV) DJANGO_SETTINGS_MODULE=frontdesk.settings \
		../../$(BIN)/django-admin makemessages --no-obsolete --no-location --no-wrap \
		--ignore='demo/*' --ignore='*/migrations/*' --ignore='static/*' \
		-l pl -l cs -l ru -l id -l th
	$(BIN)/python tools/compile_messages.py

clean:
	rm -rf .mypy_cache .ruff_cache .import_linter_cache
