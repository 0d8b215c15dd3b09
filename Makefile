# ReferralHub: `make run` to try it, `make test` to test it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
DOCS_HOST ?= 127.0.0.1:8001
# pip's warnings and setuptools' banner mean nothing to someone trying the app; errors still show.
PIP_INSTALL := $(BIN)/pip install --quiet --quiet

.PHONY: run test lint install install-test env demo docs bench-ingest bench-pages bench-bulk-approve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip setuptools

# Installed again only when pyproject.toml changes (the stamp files are older than it).
install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing ReferralHub into $(VENV)"
	@$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing ReferralHub and its test tools into $(VENV)"
	@$(PIP_INSTALL) -e ".[test]"
	@touch $@ $(VENV)/.installed

# The local settings every manage.py command reads: written once (DEBUG, SECRET_KEY and the demo
# user's DEMO_PASSWORD), never overwritten; a setting missing from an older .env is added.
env:
	@$(PYTHON) scripts/local_env.py .env

demo: install env
	@echo "Migrating the database"
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(BIN)/python manage.py load_demo --base-url http://$(HOST)

# The task worker and a loop of the alerts' checks (cron's job in production) run beside the
# server and stop with it (Ctrl-C stops all three).
run: demo
	@$(BIN)/python manage.py db_worker --worker-id dev-1 --interval 0.2 & worker=$$!; \
	while sleep 60; do $(BIN)/python manage.py check_alerts; done & checks=$$!; \
	trap 'pkill -P $$worker 2>/dev/null; kill $$worker $$checks 2>/dev/null' EXIT; \
	$(BIN)/python manage.py runserver $(HOST)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@test $$(wc -c < README.md) -le 8192 || { echo "README.md is over 8 KB: move the rest to docs/"; exit 1; }

# The documentation site, rebuilt as its pages change (warnings shown, not fatal: `make lint`
# builds it strictly): http://$(DOCS_HOST)
docs: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr $(DOCS_HOST)

bench-ingest: install-test
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

bench-pages: install-test
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

bench-bulk-approve: install-test
	$(BIN)/python bench/bulk_approve.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache site
