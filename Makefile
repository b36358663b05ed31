# cets — the two set-up commands of the README: `make demo` and `make test`.
# Python 3.11 or later: the first of python3, python3.13, python3.12, python3.11 that is at least 3.11.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
CETS_TEST_DATABASE_URL ?= postgresql://cets:cets@127.0.0.1:5432/cets
export CETS_TEST_DATABASE_URL

.PHONY: demo demo-no-serve test lint test-sqlite test-postgres bench bench-soak clean

$(PY):
	@[ -n "$(PYTHON)" ] && command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 或更高版本 / Python 3.11 or later is required (none found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/cets demo

demo-no-serve: $(STAMP)
	$(VENV)/bin/cets demo --no-serve

test: $(DEV_STAMP)
	@bash scripts/pg_prepare.sh || true
	$(MAKE) --no-print-directory lint
	@MAKE="$(MAKE)" bash scripts/test_both.sh

# The house rules: ruff, the layers (import-linter), every shipped rule pack valid.
lint: $(DEV_STAMP)
	@echo "== lint: ruff, layers (import-linter), rule packs =="
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/cets rules check

test-sqlite: $(DEV_STAMP)
	@echo "== tests on SQLite =="
	env -u CETS_DATABASE_URL $(PY) -m pytest -q

test-postgres: $(DEV_STAMP)
	@echo "== tests on PostgreSQL ($(CETS_TEST_DATABASE_URL)) =="
	@if $(PY) scripts/pgcheck.py "$(CETS_TEST_DATABASE_URL)"; then \
		CETS_DATABASE_URL="$(CETS_TEST_DATABASE_URL)" $(PY) -m pytest -q; \
	elif [ "$$CETS_TEST_POSTGRES" = "required" ]; then \
		echo "PostgreSQL is required (CETS_TEST_POSTGRES=required) but cannot be reached"; exit 1; \
	else \
		echo "!! PostgreSQL not reachable: PostgreSQL suite SKIPPED (set CETS_TEST_POSTGRES=required to fail instead)"; \
	fi

# Every bench, then one table (bench/README.md). BENCH_QUICK=1: the smallest sizes, a couple of minutes in all.
# The peers come from the `bench` extra (installed once, again when pyproject.toml changes).
BENCH_QUICK ?=
bench: $(DEV_STAMP)
	@[ $(VENV)/.installed-bench -nt pyproject.toml ] || { $(PY) -m pip install --quiet -e ".[bench]" && touch $(VENV)/.installed-bench; }
	BENCH_QUICK=$(BENCH_QUICK) $(PY) bench/run_all.py

# The 10-minute soak of the load test (bench/README.md), then `cets audit verify`: not part of `make bench`.
bench-soak: $(DEV_STAMP)
	@[ $(VENV)/.installed-bench -nt pyproject.toml ] || { $(PY) -m pip install --quiet -e ".[bench]" && touch $(VENV)/.installed-bench; }
	$(PY) bench/load_test.py --soak --database bench_soak_$$$$

clean:
	rm -rf $(VENV) var .pytest_cache
