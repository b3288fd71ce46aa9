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
.PHONY: selftest-aa selftest-ab perf-ab history

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install pgperf with its dev extra

lint: $(STAMP) ## ruff (lint and format) and mypy --strict on src/
	$(BIN)/ruff check src tests fixtures tools conftest.py
	$(BIN)/ruff format --check src tests fixtures tools conftest.py
	$(BIN)/mypy

lint-workflows: $(STAMP) ## actionlint and zizmor on .github/workflows (both must be clean)
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --no-progress .github/workflows
	@if command -v shellcheck >/dev/null; then shellcheck .github/scripts/*.sh; \
	  else echo "lint-workflows: no shellcheck here (apt-get install shellcheck): scripts unchecked"; fi

report: $(STAMP) ## the HTML report of reports/results.json (against its profile's baseline)
	$(BIN)/pgperf report reports/results.json -o reports/report.html

history: $(STAMP) ## DIR's results files as a series: reports/history.html, .json, .md (change points)
	@test -n "$(DIR)" || { echo "make history: name the results, e.g. make history DIR=reports/selftest-aa-ci"; exit 2; }
	@mkdir -p reports
	$(BIN)/pgperf history $(DIR) -o reports/history.html --json reports/history.json \
	  --markdown reports/history.md

test-unit: $(STAMP) ## the engine's unit tests (no database)
	$(PYTEST) tests/unit

test-integration: $(STAMP) ## the engine's integration tests (a real PostgreSQL)
	$(PYTEST) tests/integration

test: lint lint-workflows $(STAMP) ## lint, unit + integration tests, and the suite on the ci profile
	$(PYTEST) tests --profile ci -m "not slow"

perf: $(STAMP) ## the whole suite on the default profile, judged against baselines/<profile>.json
	@mkdir -p reports
	@# A verdict is only ever about this run: nothing of an earlier run may be judged again.
	@rm -f reports/results.json reports/summary.md reports/verdict.json reports/report.html
	@status=0; baseline="$(or $(BASELINE),baselines/$(PROFILE).json)"; \
	judge=(); [ -f "$$baseline" ] && judge=(--baseline "$$baseline"); \
	$(PYTEST) tests/perf --profile $(PROFILE) -m "not slow and not load" \
	  --benchmark-json reports/results.json "$${judge[@]}" || status=$$?; \
	if [ -f reports/results.json ]; then \
	  $(BIN)/pgperf verdict reports/results.json --markdown reports/summary.md \
	    --json reports/verdict.json "$${judge[@]}" || status=$$?; \
	  $(BIN)/pgperf report reports/results.json -o reports/report.html "$${judge[@]}" \
	    >/dev/null || status=$$?; \
	  echo "reports: reports/results.json (JSON), reports/summary.md (markdown)," \
	    "reports/verdict.json (verdict for tools), reports/report.html (HTML)"; \
	else \
	  echo "make perf: this run wrote no results (see the errors above), so there is no verdict"; \
	  [ $$status -ne 0 ] || status=2; \
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
	$(BIN)/pgperf load-sweep --profile $(PROFILE) -o reports/load-sweep.json

perf-crosscheck: $(STAMP) ## pgbench times a few catalog queries too: within 15% of ours?
	$(PYTEST) tests/perf/test_crosscheck.py --profile $(PROFILE) -m slow -s

bench-indexes: $(STAMP) ## cost of the performance indexes: build time, size, INSERT overhead
	$(BIN)/python tools/bench_indexes.py --profile $(PROFILE)

perf-ab: $(STAMP) ## this checkout against BASE (default: its merge base with main), in one run
	@mkdir -p reports
	$(BIN)/pgperf ab $(if $(BASE),--base $(BASE)) \
	  --profile $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),ci) \
	  --markdown reports/ab-summary.md --json reports/ab-verdict.json

selftest-ab: $(STAMP) ## A/A of the same-run A/B: RUNS runs (default 10, PROFILE ci), false alarms + MDE
	$(BIN)/python tools/selftest_ab.py --runs $(or $(RUNS),10) $(if $(BUSY),--busy $(BUSY)) \
	  --profile $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),ci)

selftest-aa: $(STAMP) ## A/A: RUNS unchanged runs (default 5, PROFILE ci), false alarms + spread
	$(BIN)/python tools/selftest_aa.py --runs $(or $(RUNS),5) \
	  --profile $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),ci)

bench-seed: $(STAMP) ## seeding rows/s: end to end vs raw COPY vs naive Faker+INSERT
	$(BIN)/python tools/seed_throughput.py --profile $(PROFILE)

baseline: $(STAMP) ## promote reports/results.json to baselines/<its profile>.json (atomic)
	$(BIN)/pgperf baseline promote reports/results.json

clean: ## remove the virtualenv, caches and reports
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports/*.json reports/*.html reports/*.md
