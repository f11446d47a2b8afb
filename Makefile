# Relaydesk: `make run` serves the app on SQLite; `make test` runs every check and the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/relaydesk
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

help:
	@echo "make run     install into .venv, migrate, seed demo data on first start, serve http://127.0.0.1:8000"
	@echo "make test    install dev dependencies; lint, type-check, migrations check; tests on SQLite, PostgreSQL+Redis, browser"
	@echo "make check   only ruff, mypy and the migrations check"
	@echo "make bench   benchmarks (see bench/README.md)"

$(UV):
	@echo "uv not found: installing it into .tools/ with pip"
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

.venv/.synced-run: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev
	@touch $@

.venv/.synced-dev: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@ .venv/.synced-run

run: .venv/.synced-run
	.venv/bin/relaydesk run

check: .venv/.synced-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy relaydesk tests bench
	DJANGO_SETTINGS_MODULE=relaydesk.config.test_settings $(PY) manage.py makemigrations --check --dry-run

# The IMAP tests start Debian's dovecot (apt-get install dovecot-imapd): without /usr/sbin/dovecot
# they skip, and under CI=true they fail instead (.ci/run installs it). See docs/testing-mail.md.
test-sqlite: .venv/.synced-dev
	@echo "== tests on SQLite =="
	env -u DATABASE_URL -u REDIS_URL .venv/bin/pytest -n 2 -m "not browser" $(PYTEST_ARGS)

test-postgres: .venv/.synced-dev
	@echo "== tests on PostgreSQL + Redis =="
	@if ! $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  if [ "$$CI" = "true" ]; then echo "PostgreSQL at $(PG_URL) is not reachable (CI=true: failing)"; exit 1; fi; \
	  echo "PostgreSQL not reachable: skipping this leg (it is required under CI=true)"; exit 0; fi; \
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) .venv/bin/pytest -n 2 -m "not browser" $(PYTEST_ARGS)

test-browser: .venv/.synced-dev
	@echo "== browser tests (Playwright + Debian chromium) =="
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$CI" = "true" ]; then echo "/usr/bin/chromium is missing (CI=true: failing; .ci/run installs it)"; exit 1; fi; \
	  echo "chromium not installed (apt-get install chromium): skipping browser tests"; exit 0; fi; \
	env -u DATABASE_URL -u REDIS_URL DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest -m browser $(PYTEST_ARGS)

test: check test-sqlite test-postgres test-browser

bench: .venv/.synced-dev
	@cat bench/README.md

.PHONY: help run check test test-sqlite test-postgres test-browser bench
