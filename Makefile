# pgperf — two commands do all the set-up: `make perf` runs the suite, `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= default
PYTEST := $(BIN)/python -m pytest

.PHONY: help venv lint test test-unit test-integration perf baseline clean bench-seed
.PHONY: lint-workflows report perf-crosscheck bench-indexes perf-load perf-load-sweep baseline-load
.PHONY: selftest-aa

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install pgperf with its dev extra

lint: $(STAMP) ## ruff and mypy --strict on src/
	$(BIN)/ruff check src tests fixtures conftest.py
	$(BIN)/mypy

lint-workflows: $(STAMP) ## actionlint and zizmor on .github/workflows (both must be clean)
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --no-progress .github/workflows
	@if command -v shellcheck >/dev/null; then shellcheck .github/scripts/*.sh; \
	  else echo "lint-workflows: no shellcheck here (apt-get install shellcheck): scripts unchecked"; fi

report: $(STAMP) ## the HTML report of reports/results.json (against its profile's baseline)
	$(BIN)/pgperf report reports/results.json -o reports/report.html

test-unit: $(STAMP) ## the engine's unit tests (no database)
	$(PYTEST) tests/unit

test-integration: $(STAMP) ## the engine's integration tests (a real PostgreSQL)
	$(PYTEST) tests/integration

test: lint lint-workflows $(STAMP) ## lint, unit + integration tests, and the suite on the ci profile
	$(PYTEST) tests --profile ci -m "not slow"

perf: $(STAMP) ## the whole suite on the default profile, judged against baselines/<profile>.json
	@mkdir -p reports
	@status=0; \
	$(PYTEST) tests/perf --profile $(PROFILE) -m "not slow and not load" \
	  --benchmark-json reports/results.json || status=$$?; \
	if [ -f reports/results.json ]; then \
	  $(BIN)/pgperf verdict reports/results.json --markdown reports/summary.md \
	    $(if $(BASELINE),--baseline $(BASELINE)) || status=$$?; \
	  $(BIN)/pgperf report reports/results.json -o reports/report.html \
	    $(if $(BASELINE),--baseline $(BASELINE)) >/dev/null || status=$$?; \
	  echo "reports: reports/results.json (JSON), reports/summary.md (markdown)," \
	    "reports/report.html (HTML)"; \
	fi; \
	exit $$status  # the verdict and the reports are written even (above all) when a test fails

perf-load: $(STAMP) ## the load scenarios, full length (sql/load/scenarios.toml); results in reports/
	@mkdir -p reports
	$(PYTEST) tests/perf --profile $(PROFILE) -m load --load-shape full -s \
	  --benchmark-json reports/load-results.json
	@if [ -f baselines/load-$(PROFILE).json ]; then \
	  $(BIN)/pgperf compare baselines/load-$(PROFILE).json reports/load-results.json; \
	else echo "no baselines/load-$(PROFILE).json yet: \`make baseline-load\` records one"; fi

baseline-load: $(STAMP) ## promote reports/load-results.json to baselines/load-<PROFILE>.json
	$(BIN)/pgperf baseline promote reports/load-results.json --to baselines/load-$(PROFILE).json

perf-load-sweep: $(STAMP) ## raise each scenario's rate until p95 leaves its budget; where's the limit?
	@mkdir -p reports
	$(BIN)/python -m pgperf.loadsweep --profile $(PROFILE) -o reports/load-sweep.json

perf-crosscheck: $(STAMP) ## pgbench times a few catalog queries too: within 15% of ours?
	$(PYTEST) tests/perf/test_crosscheck.py --profile $(PROFILE) -m slow -s

bench-indexes: $(STAMP) ## cost of the performance indexes: build time, size, INSERT overhead
	$(BIN)/python benchmarks/bench_indexes.py --profile $(PROFILE)

selftest-aa: $(STAMP) ## A/A: RUNS unchanged runs (default 5, PROFILE ci), false alarms + spread
	$(BIN)/python benchmarks/selftest_aa.py --runs $(or $(RUNS),5) \
	  --profile $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),ci)

bench-seed: $(STAMP) ## seeding rows/s: end to end vs raw COPY vs naive Faker+INSERT
	$(BIN)/python benchmarks/seed_throughput.py --profile $(PROFILE)

baseline: $(STAMP) ## promote reports/results.json to baselines/<its profile>.json (atomic)
	$(BIN)/pgperf baseline promote reports/results.json

clean: ## remove the virtualenv, caches and reports
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports/*.json reports/*.html reports/*.md
