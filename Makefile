# Two commands set everything up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
LOCK := requirements/lock.txt
STAMP := $(VENV)/.installed

export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: help install chromium train seed run shell test test-unit test-integration test-e2e validate rasa-test holdout bench lock clean

help:
	@echo "make run    - install, train if needed, seed, start action server (5055) + Rasa REST (5005) + agents' console (5080)"
	@echo "make test   - install, validate data, run every test (pytest, rasa test, NLU holdout)"
	@echo "make shell  - chat in the terminal;  make train - train a model;  make bench - latency figures"

# Python 3.10 (Rasa 3.6 refuses newer): PATH first, then pyenv's install.
PYTHON310 := $(shell scripts/find-python310)

$(STAMP): $(LOCK)
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it (Rasa 3.6 needs 3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	touch $(STAMP)

install: $(STAMP) chromium

# Debian's chromium for the browser tests (skipped with the reason when absent, failed under CI).
chromium:
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium not installed (needs apt-get as root): browser tests will skip"

lock: install
	scripts/lock

train: install
	$(PY) scripts/train_if_needed.py --force

seed: install
	$(PY) -m bot.filing.seed

run: install seed
	$(PY) scripts/train_if_needed.py
	scripts/run-servers

shell: install seed
	$(PY) scripts/train_if_needed.py
	scripts/run-servers --shell

validate: install
	$(RASA) data validate --max-history 5

test: install validate
	$(PY) scripts/train_if_needed.py
	$(PY) -m pytest -q tests
	$(MAKE) --no-print-directory rasa-test

test-unit: install
	$(PY) -m pytest -q tests/unit

test-integration: install
	$(PY) -m pytest -q tests/integration

test-e2e: install
	$(PY) scripts/train_if_needed.py
	$(PY) -m pytest -q tests/e2e

rasa-test: install
	$(PY) scripts/train_if_needed.py
	$(RASA) test core --stories tests/stories --model models --fail-on-prediction-errors --out results/core

holdout: install
	$(PY) scripts/train_if_needed.py
	$(PY) -m pytest -q tests/integration/test_nlu_holdout.py

bench: install seed
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/bench.py

clean:
	rm -rf models/*.tar.gz results var/*.db
