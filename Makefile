# DIP — the README's two commands are `make demo` and `make test`; everything else is a building block.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DIP := $(BIN)/dip
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: setup jars stack-up stack-down demo test test-fast lint clean

$(INSTALLED): setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
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

test: stack-up             ## full test suite against the real local stack
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: setup           ## unit tests only, no services
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check libs jobs tests
	$(BIN)/ruff format --check libs jobs tests

clean: stack-down
	rm -rf .dip
