# DIP — the README's two commands are `make demo` and `make test`; everything else is a building block.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DIP := $(BIN)/dip
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: setup jars stack-up stack-down demo test test-fast lint notebooks clean

# dip (the cluster wheel; dev = every role + test tools) and dip-local (dev-only commands), at the tested pins
CONSTRAINTS := conf/constraints.txt

$(INSTALLED): setup.py local/setup.py $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' -e ./local -c $(CONSTRAINTS)
	touch $(INSTALLED)

setup: $(INSTALLED) jars   ## venv + pinned packages + JVM jars

jars: $(INSTALLED)         ## resolve JVM jars from Maven Central (no-op when up to date)
	$(DIP) jars

stack-up: setup            ## local Kafka broker (KRaft) + Redis on loopback
	$(DIP) stack up

stack-down:
	-test -x $(DIP) && $(DIP) stack down

demo: stack-up             ## set-up, stack up, doctor checks, then the pipeline end to end with a summary
	$(DIP) doctor
	$(DIP) demo $(DEMO_ARGS)

# JVM options for the test JVMs (JAVA_TOOL_OPTIONS), empty by default: C1-only (-XX:TieredStopAtLevel=1) sped up
# subprocess-heavy tests by ~17 % but slowed the long-lived in-process sessions (benchmarks/README.md).
TEST_JAVA_OPTIONS ?=
TEST_JVM_ENV = $(if $(TEST_JAVA_OPTIONS),JAVA_TOOL_OPTIONS="$(TEST_JAVA_OPTIONS)")

test: stack-up airflow feast-venv  ## full test suite against the real local stack, incl. real `airflow dags test` runs
	$(TEST_JVM_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# The Spark 4.0 profile (not in `make test`/CI: the main suite alone fills CI's 60 minutes): its own venv (pyspark 4.0 + Delta 4.x, Scala 2.13 jars in .dip/jars/spark-4.0),
# Delta feature tables (no Hudi bundle for Spark 4.0), the streaming + feature subset of the tests.
SPARK4_VENV := .venv-spark4
SPARK4_INSTALLED := $(SPARK4_VENV)/.installed
SPARK4_ENV := DIP__SPARK__RUNTIME=4.0 DIP__SPARK__HUDI_ENABLED=false DIP__FEATURES__TABLE_FORMAT=delta
SPARK4_TESTS := tests/unit/streaming tests/unit/silver tests/unit/features tests/unit/spark \
	tests/integration/test_foundation.py tests/integration/test_stream_bronze.py \
	tests/integration/test_stream_silver.py tests/integration/test_stream_recovery.py \
	tests/integration/test_stream_evolution.py tests/integration/test_features.py
.PHONY: spark4 test-spark4

$(SPARK4_INSTALLED): setup.py local/setup.py $(CONSTRAINTS) conf/spark4-requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(SPARK4_VENV)/bin/python || $(PYTHON) -m venv $(SPARK4_VENV)
	$(SPARK4_VENV)/bin/pip install -q --upgrade pip
	# the 4.0 line replaces the pins of pyspark, delta-spark and what delta-spark 4.x caps (importlib-metadata<=8.7.1)
	grep -viE '^(pyspark|delta-spark|importlib[-_]metadata)==' $(CONSTRAINTS) > $(SPARK4_VENV)/constraints.txt
	$(SPARK4_VENV)/bin/pip install -q -e . -e ./local -r conf/spark4-requirements.txt -c $(SPARK4_VENV)/constraints.txt
	touch $(SPARK4_INSTALLED)

spark4: $(SPARK4_INSTALLED)   ## .venv-spark4 + its Scala 2.13 jars
	$(SPARK4_ENV) $(SPARK4_VENV)/bin/dip jars

test-spark4: stack-up spark4  ## the streaming + Delta-feature subset on Spark 4.0 (Hudi tests skip: no bundle)
	$(TEST_JVM_ENV) $(SPARK4_ENV) $(SPARK4_VENV)/bin/pytest $(PYTEST_ARGS) $(SPARK4_TESTS)

test-fast: setup           ## unit tests only, no services
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

AIRFLOW_VENV := .venv-airflow
AIRFLOW_INSTALLED := $(AIRFLOW_VENV)/.installed
.PHONY: airflow airflow-venv dist

$(AIRFLOW_INSTALLED): airflow/requirements.txt airflow/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install -q --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install -q -r airflow/requirements.txt -c airflow/constraints.txt
	$(AIRFLOW_VENV)/bin/python -c 'import airflow.providers.apache.spark.operators.spark_submit'
	touch $(AIRFLOW_INSTALLED)

airflow-venv: $(AIRFLOW_INSTALLED)   ## only the Airflow venv (CI installs it beside `setup` with make -j2)

# Feast's SDK in its own venv (its pins clash with the jobs'): the Feast-format test reads DIP's Redis with it
FEAST_VENV := .venv-feast
FEAST_INSTALLED := $(FEAST_VENV)/.installed
.PHONY: feast-venv

$(FEAST_INSTALLED): conf/feast-requirements.txt
	test -x $(FEAST_VENV)/bin/python || $(PYTHON) -m venv $(FEAST_VENV)
	$(FEAST_VENV)/bin/pip install -q -r conf/feast-requirements.txt
	# DuckDB's delta extension from the installed wheel (a local extension repository), not downloaded at query time
	$(FEAST_VENV)/bin/python -c 'import duckdb, sysconfig; repo = sysconfig.get_paths()["purelib"] + "/duckdb_ext/extensions"; duckdb.sql(f"FORCE INSTALL delta FROM {repo!r}")'
	touch $(FEAST_INSTALLED)

feast-venv: $(FEAST_INSTALLED)   ## only the Feast venv (CI installs it beside `setup`)

airflow: setup $(AIRFLOW_INSTALLED)   ## Airflow 3 in its own venv: DAG spec + Spark connection from config, metadata DB
	$(DIP) deploy render --target airflow
	airflow/bin/airflow db migrate >/dev/null

dist: $(INSTALLED)         ## the dip wheel + jobs/ + conf/ + expectations/ + dip_home.tar.gz for clusters
	$(DIP) deploy dist

lint: $(INSTALLED)
	$(BIN)/ruff check libs local jobs tests benchmarks airflow notebooks setup.py
	$(BIN)/ruff format --check libs local jobs tests benchmarks airflow notebooks setup.py
	$(BIN)/lint-imports .importlinter

notebooks: $(INSTALLED)    ## notebooks/*.ipynb from their jupytext sources notebooks/*.py (not committed)
	$(BIN)/jupytext --to ipynb notebooks/*.py

clean: stack-down
	rm -rf .dip

# Benchmarks (issue 9): ratios against baselines measured in the same run; results in benchmarks/results/.
# Sizes: BENCH_ROWS (one size for stream/features/quality/online push/Feast; empty: each script's default),
# BENCH_SIZES (three sizes for scaling), BENCH_RUNS (timed runs per side, median reported).
BENCH_ROWS ?=
BENCH_SIZES ?= 100000 1000000 3000000
BENCH_RUNS ?= 3
BENCH_ROUNDS ?= 5
BENCH_COMMON = --runs $(BENCH_RUNS) $(if $(BENCH_ROWS),--rows $(BENCH_ROWS))
.PHONY: bench bench-smoke chaos chaos-quick

bench: stack-up            ## every benchmark; each prints its figures and ratio and writes benchmarks/results/<name>.json
	$(BIN)/python benchmarks/stream.py $(BENCH_COMMON)
	$(BIN)/python benchmarks/quality_overhead.py $(BENCH_COMMON)
	$(BIN)/python benchmarks/features.py $(BENCH_COMMON)
	$(BIN)/python benchmarks/online_push.py $(if $(BENCH_ROWS),--rows $(BENCH_ROWS))
	$(BIN)/python benchmarks/feast_compare.py $(BENCH_COMMON)
	$(BIN)/python benchmarks/serving_latency.py
	$(BIN)/python benchmarks/freshness.py --runs $(BENCH_ROUNDS)
	$(BIN)/python benchmarks/scaling.py --runs $(BENCH_RUNS) --sizes $(BENCH_SIZES)
	$(BIN)/python benchmarks/silver_steps.py $(if $(BENCH_ROWS),--rows $(BENCH_ROWS))
	$(BIN)/python benchmarks/silver_batch.py

chaos: stack-up            ## kill -9 every stage at seeded points, restart Kafka/Redis, API storms; compare with a clean run
	$(BIN)/python benchmarks/chaos.py $(if $(CHAOS_POINTS),--points $(CHAOS_POINTS))

chaos-quick: stack-up      ## the bounded chaos run as a test (tests/integration/test_chaos.py, marker chaos)
	$(TEST_JVM_ENV) $(BIN)/pytest -m chaos tests/integration/test_chaos.py $(PYTEST_ARGS)

bench-smoke: stack-up      ## every benchmark at tiny sizes, checking result keys and row counts (minutes)
	$(BIN)/pytest -m integration tests/integration/test_benchmarks_smoke.py $(PYTEST_ARGS)
