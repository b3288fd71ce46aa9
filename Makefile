# pgperf — two commands do all the set-up: `make perf` runs the suite, `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= default
PYTEST := $(BIN)/python -m pytest

.PHONY: help venv lint test test-unit test-integration perf baseline clean

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

test-unit: $(STAMP) ## the engine's unit tests (no database)
	$(PYTEST) tests/unit

test-integration: $(STAMP) ## the engine's integration tests (a real PostgreSQL)
	$(PYTEST) tests/integration

test: lint $(STAMP) ## lint, unit + integration tests, and the suite on the ci profile
	$(PYTEST) tests --profile ci

perf: $(STAMP) ## the whole suite on the default profile, compared with the stored baseline
	$(PYTEST) tests/perf --profile $(PROFILE)

clean: ## remove the virtualenv, caches and reports
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports/*.json reports/*.html reports/*.md
