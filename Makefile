# Two commands set everything up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: help install install-dev node-packages lint chromium nginx proxy wechat-sim train seed run shell test test-unit test-integration test-e2e validate rasa-test holdout fuzz purge export-training bench bench-wechat cluster soak lock clean

help:
	@echo "make run    - install, train if needed, seed, start action server (5055) + Rasa REST (5005), web chat at /chat, agents' console (5080)"
	@echo "make proxy  - the public entry (nginx, 127.0.0.1:8080): only the WeChat/WeCom callbacks and /chat, in front of make run"
	@echo "make test   - install with the dev tools, lint, validate data, run every test (pytest, rasa test, NLU holdout)"
	@echo "make shell  - chat in the terminal;  make train - train a model;  make bench - latency figures"
	@echo "make manifests OVERLAY=staging|production - the Kubernetes manifests (deploy/k8s), rendered"

# Python 3.10 (Rasa 3.6 refuses newer): PATH first, then pyenv's install.
PYTHON310 := $(shell scripts/find-python310)

# The runtime lock, then the project itself in editable mode (pyproject.toml; setuptools and
# wheel come from the lock, so nothing is fetched to build it).
$(STAMP): $(LOCK) pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it (Rasa 3.6 needs 3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The development tools (pytest, playwright, hypothesis, atheris, ruff) over the runtime lock.
$(DEV_STAMP): $(STAMP) $(DEV_LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(DEV_LOCK)
	touch $(DEV_STAMP)

# The console's browser packages (Apache ECharts for the dashboard), pinned in package-lock.json
# and installed from the npm registry without running any package's scripts. Without npm the
# dashboard shows its figures as text (and its browser test fails under REQUIRE_SERVICES=1).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else echo "npm not found: the console's dashboard will show its figures as text (install Node.js and npm)"; fi

node-packages: $(NODE_STAMP)

install: $(STAMP) nginx node-packages

install-dev: install $(DEV_STAMP)

# Pyflakes and import order (pyproject.toml, [tool.ruff]); `make test` runs it first.
lint: install-dev
	$(VENV)/bin/ruff check .

# Debian's Chromium for the browser tests (no browser build is ever downloaded), installed by the
# test targets only: when missing, apt-get exists and we are root; otherwise those tests skip
# with the reason (and fail under REQUIRE_SERVICES=1).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing chromium (Debian package) for the browser test"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	    || echo "could not install chromium: the browser test will skip"; \
	else echo "chromium missing and not installable here (needs apt-get as root): the browser test will skip"; fi

# Debian's nginx for the public entry (`make proxy`) and its test; installed like chromium. The
# project runs its own nginx under var/nginx and never uses the system service.
nginx:
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing nginx (Debian package) for the public entry"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; } \
	    || echo "could not install nginx: make proxy and its test will not run"; \
	else echo "nginx missing and not installable here (needs apt-get as root): the proxy test will skip"; fi

# In front of `make run` (another terminal): PROXY_LISTEN (127.0.0.1:8080), RASA_PORT (5005).
proxy: nginx
	$(PY) scripts/run_proxy.py

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

test: install-dev chromium lint validate
	$(PY) scripts/train_if_needed.py
	$(PY) -m pytest -q tests
	$(MAKE) --no-print-directory rasa-test

test-unit: install-dev
	$(PY) -m pytest -q tests/unit

test-integration: install-dev
	$(PY) -m pytest -q tests/integration

test-e2e: install-dev chromium
	$(PY) scripts/train_if_needed.py
	$(PY) -m pytest -q tests/e2e

# Deletes the conversations idle for RETENTION_DAYS (180) from the tracker store; ARGS="--dry-run" counts only.
purge: install
	$(PY) -m bot.retention purge $(ARGS)

# The agents' labels (console, 待学习) as Rasa NLU data in data/nlu/reviewed/ (bot/learning/export.py);
# near-duplicates of the holdouts refused and listed. ARGS="--dry-run" lists only, "--out DIR" elsewhere.
export-training: install
	$(PY) -m bot.learning.export $(ARGS)

# The seeded fuzz runs of `make test`, FUZZ_RUNS_SCALE (default 20) times longer.
fuzz: install-dev
	FUZZ_RUNS_SCALE=$${FUZZ_RUNS_SCALE:-20} $(PY) -m pytest -q tests/fuzz

rasa-test: install
	$(PY) scripts/train_if_needed.py
	$(RASA) test core --stories tests/stories --model models --fail-on-prediction-errors --out results/core

# Figures on the NLU holdouts (tests/nlu/holdout.yml, realistic.yml, fresh.yml, keywords.yml); ARGS="--misses" lists the misses.
holdout: install-dev
	$(PY) scripts/train_if_needed.py
	$(PY) -W ignore scripts/nlu_report.py $(ARGS)
	$(PY) -m pytest -q tests/integration/test_nlu_holdout.py tests/integration/test_nlu_realistic.py tests/integration/test_nlu_keywords.py

# Plays a WeChat user against a running server (README: "WeChat channels"); ARGS="--safe", "--wecom", "-m TEXT".
wechat-sim: install
	$(PY) scripts/wechat_sim.py $(ARGS)

bench: install seed
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/bench.py
	$(PY) scripts/bench_cluster.py

# A 16,000-character message: time to refuse it, and another user's latency meanwhile (issue 9, finding 5).
.PHONY: bench-guard
bench-guard: install
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/bench_long_input.py

# The platform's load on the WeChat callback (issue 14); ARGS="--users 50 150 300 --messages 5" (--replicas N: the cluster).
.PHONY: bench-wechat
bench-wechat: install
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/bench_wechat_load.py $(ARGS)

# The agents' console's polled reads (ticket list with waiting clocks, arrivals, canned replies);
# ARGS="--tickets 200 --messages 40 --requests 50". No model or Rasa server needed.
.PHONY: bench-console
bench-console: install
	$(PY) scripts/bench_console.py $(ARGS)

# The assistant scaled out on loopback (issue 12): nginx in front of REPLICAS (2) Rasa replicas and
# action servers, two consoles, PostgreSQL and Redis (README, "Scaling out"); Ctrl-C stops it.
cluster: install
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/cluster.py

# The cluster under the platform's load with a replica killed mid-run (issue 12); prints the
# figures. ARGS="--users 200 --messages 10000 --redeliver 0.2 --kill-at 0.4"; REPLICAS (2).
soak: install
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/soak.py $(ARGS)

# Each process's resident memory (the figures behind deploy/k8s's resource requests).
.PHONY: measure-memory
measure-memory: install
	$(PY) scripts/train_if_needed.py
	$(PY) scripts/measure_memory.py $(ARGS)

# The Kubernetes manifests of an overlay (deploy/k8s), rendered without kubectl; validated by `make test`.
OVERLAY ?= production
.PHONY: manifests
manifests: install
	@$(PY) scripts/render_manifests.py deploy/k8s/overlays/$(OVERLAY)

clean:
	rm -rf models/*.tar.gz results var/*.db
