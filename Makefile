# The few verbs a newcomer needs. `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Installed packages are compiled to bytecode once, at install: a machine that sets
# PYTHONDONTWRITEBYTECODE (these do) otherwise compiles every import again in every process,
# about 9 s of each `make run` and of each dbt subprocess's start.
export UV_COMPILE_BYTECODE := 1
# dbt on PATH: dagster-dbt's project preparer (dbt parse) and the Dagster UI look for it there
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install run test lint unit ui docs bench clean duckdb15 superset bi preflight mutation mutation-sql

help:
	@echo "make run    - install (if needed), generate the demo city, land it, build every model, print a summary"
	@echo "make test   - lint (ruff, sqlfluff, dbt parse, Dagster definitions) and the whole test suite"
	@echo "make ui     - start the Dagster UI on http://127.0.0.1:3000 (reads workspace.yaml)"
	@echo "make bi     - start Superset on http://127.0.0.1:8088 with the starter dashboard (PostgreSQL or the DuckDB file)"
	@echo "make lint   - only the linters"
	@echo "make bench  - benchmark the pipeline stage by stage (BENCH_SCALE=10 for ten times the demo city)"
	@echo "make mutation     - mutation-test the modules where a silent change would mislead (mutmut, about 5 min)"
	@echo "make mutation-sql - mutate the marts' SQL and check the suite catches each change (about 15 min)"
	@echo "make clean  - remove the warehouse, landing folder, run history and build output"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: uv.lock pyproject.toml Makefile | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

# DuckDB 1.5 in its own small venv, for the test that opens the published files as a BI driver would.
DUCKDB15 := .tools/duckdb15
$(DUCKDB15)/.installed: orchestration/serving/duckdb15-requirements.txt
	$(PYTHON) -m venv $(DUCKDB15)
	$(DUCKDB15)/bin/pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r $<
	@touch $@

duckdb15: $(DUCKDB15)/.installed

# Apache Superset in its own environment (it needs SQLAlchemy 1.4), for make bi and its browser test.
SUPERSET := .tools/superset
$(SUPERSET)/.installed: orchestration/bi/superset-requirements.txt
	$(PYTHON) -m venv $(SUPERSET)
	$(SUPERSET)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r $<
	@touch $@

superset: $(SUPERSET)/.installed

# The BI workspace: Superset on http://127.0.0.1:8088, on the published marts: PostgreSQL or the serving DuckDB file (docs/bi_guide.md).
bi: install superset
	$(BIN)/python -m orchestration.bi.workspace

run: install
	$(BIN)/python -m orchestration.cli run $(ARGS)

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests
	@# dbt renders each model for sqlfluff (its dbt templater); incremental models are rendered against an empty scratch warehouse
	PSW_WAREHOUSE=$(CURDIR)/.tools/sqlfluff-lint.duckdb $(BIN)/sqlfluff lint dbt_project/models
	cd dbt_project && ../$(BIN)/dbt parse --warn-error --quiet
	$(BIN)/python -W error::UserWarning -c "from orchestration.definitions import defs; defs.resolve_asset_graph()"

# The preflight provides PostgreSQL and Chromium where it can, or stops before any test naming what to install.
preflight: install
	$(BIN)/python -m tests.support.preflight

# Two workers (pytest-xdist, --dist loadfile): each test module runs whole in one worker, in order
# (module fixtures build a warehouse once; some tests go on from an earlier one's state). Tests on
# the PostgreSQL server use databases and roles of their own, so two modules can share the server.
# (xdist_group marks would keep them apart, but pytest-xdist 3.8 does not group under pytest 9.)
TEST_WORKERS ?= 2
unit: install duckdb15 superset preflight
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test: lint unit

ui: install
	$(BIN)/python -c "import os, pathlib; from orchestration.instance import ensure_dagster_yaml; ensure_dagster_yaml(pathlib.Path(os.environ.get('DAGSTER_HOME') or '$(CURDIR)/.dagster_home'))"
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} $(BIN)/dagster dev -w workspace.yaml

# Figures, not tests: prints stage times, memory and the overhead over the bare engine.
BENCH_SCALE ?= 1
bench: install
	$(BIN)/python -m orchestration.benchmark --scale $(BENCH_SCALE)

# Not tests: how many deliberate faults the tests catch (docs/mutation_testing.md lists the survivors).
mutation: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(TEST_WORKERS)
	$(BIN)/mutmut results

mutation-sql: install
	$(BIN)/python -m tests.mutation.sql_mutants

clean:
	rm -rf mutants data .dagster_home dbt_project/target dbt_project/target-* dbt_project/logs logs
