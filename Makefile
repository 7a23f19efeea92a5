# Easy Flow — shop-support assistant on Rasa Open Source 3.6.
# `make run` talks to the assistant; `make test` checks everything. Both install
# what they need first (quick when nothing changed).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10: pyenv's 3.10 if present, else python3.10 on PATH.
PYTHON310 ?= $(shell (ls -d $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1) || true)
ifeq ($(strip $(PYTHON310)),)
PYTHON310 := $(shell command -v python3.10)
endif
VENV := .venv
BIN := $(VENV)/bin
UV := $(PYTHON310) -m uv
# The admin API (api/) runs on a current Python: pyenv's 3.12 if present.
PYTHON312 ?= $(shell (ls -d $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1) || command -v python3.12 || true)
API_BIN := api/.venv/bin
export UV_PYTHON_DOWNLOADS := never
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore

MODEL := models/easyflow.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(wildcard data/nlu/*.yml data/rules/*.yml data/stories/*.yml) $(wildcard bot/*/*.py common/*.py)
NLU_MIN_ACCURACY ?= 0.85
# Held-out F1 of product, size and colour (tests/nlu_gate.py); they measure 0.97.
NLU_MIN_ENTITY_F1 ?= 0.90
# Shopper messages written outside the team (tests/data/shoppers): gated at the
# goals of issue 14 (0.95 in-scope, 0.90 per category, fallback F1 0.90); the
# landed model measures 95.9%, every category >= 93.5%, F1 0.931.
SHOPPERS_FLOORS ?= --min-in-scope 0.95 --min-category 0.90 --min-fallback-f1 0.90 --min-order-id 0.97
# Held-out data lives in tests/ (tests/nlu, tests/test_conversations.yml), where
# plain `rasa train` (data/) never sees it and plain `rasa test` finds the stories.
TRAIN_DATA := data/nlu data/rules data/stories

.PHONY: help system-deps install install-api install-llm test-llm bench run shell train test lint validate pytest test-nlu test-core test-e2e test-api test-deploy test-production test-dashboard dashboard clean

help: ## Show the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml uv.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it (pyenv install 3.10) or set PYTHON310=/path/to/python3.10"; exit 1; }
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON310) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON310)
	@touch $@

install: $(BIN)/.installed ## Install the Python 3.10 environment from uv.lock

# nginx, promtool and Chromium from Debian's packages: installed when missing and
# possible (root or passwordless sudo), otherwise `make test` stops here with the
# exact command.
system-deps:
	@bash deploy/local/system-deps.sh

$(API_BIN)/.installed: api/pyproject.toml api/uv.lock $(BIN)/.installed
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found: install it (pyenv install 3.12) or set PYTHON312=/path/to/python3.12"; exit 1; }
	cd api && $(UV) sync --frozen --compile-bytecode --python $(PYTHON312)
	@touch $@

install-api: $(API_BIN)/.installed ## Install the admin API's Python 3.12 environment

$(MODEL): $(BIN)/.installed $(TRAINING_INPUTS)
	$(BIN)/rasa train --data $(TRAIN_DATA) --fixed-model-name easyflow --out models
	@touch $@

train: $(MODEL) ## Train the model if the data changed

run: $(MODEL) $(API_BIN)/.installed ## Run the assistant, the dashboard and the demo shop on embedded defaults
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory dashboard; else echo "npm not found: the dashboard is not built (the api still runs)"; fi
	@bash deploy/local/run.sh

shell: $(MODEL) ## Chat with the assistant in the terminal
	@bash deploy/local/run.sh shell

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

validate: $(BIN)/.installed
	$(BIN)/rasa data validate --data $(TRAIN_DATA)

# The local transformers model server (llm/, Python 3.11 + CPU torch): its own
# environment; the action server's tests also talk to it as a process.
install-llm: ## Install the local LLM server's environment (llm/, about 1.2 GB)
	bash llm/install.sh

test-llm: install-llm
	cd llm && .venv/bin/python -m pytest -q

# The api's environment too: tests/actions/test_shop_profile.py runs the real api.
pytest: $(BIN)/.installed install-llm $(API_BIN)/.installed
	$(BIN)/pytest -q --ignore=tests/e2e --ignore=tests/connectors --ignore=tests/deploy --ignore=tests/production

# Admin API against the local PostgreSQL and RabbitMQ (api/README.md).
test-api: $(API_BIN)/.installed
	cd api && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/pytest -q

# Dockerfiles, compose, Kubernetes manifests, Prometheus rules: validated offline.
test-deploy: $(BIN)/.installed
	bash tests/deploy/install-tools.sh
	$(BIN)/pytest -q tests/deploy

# Tests that need the trained model: connectors against platform emulators, e2e.
test-e2e: $(MODEL)
	$(BIN)/pytest -q tests/connectors tests/e2e

# The merchant dashboard, the web chat widget and the demo shop (dashboard/).
DASHBOARD_SOURCES := $(shell find dashboard/src dashboard/widget dashboard/demo -type f 2>/dev/null) dashboard/index.html dashboard/vite.config.ts dashboard/vite.widget.config.ts dashboard/package.json $(wildcard dashboard/scripts/*)
dashboard/node_modules/.package-lock.json: dashboard/package-lock.json
	cd dashboard && npm ci --no-audit --no-fund
dashboard/dist/index.html: dashboard/node_modules/.package-lock.json $(DASHBOARD_SOURCES)
	cd dashboard && npm run build
	@touch $@

dashboard: dashboard/dist/index.html ## Build the dashboard, widget and demo shop page

# Browser tests in headless Chromium: dashboard against a seeded api, and the
# widget talking to a real Rasa + action server through an operator handoff;
# axe-core's accessibility audit of every page (e2e/08-a11y.spec.ts).
test-dashboard: dashboard/dist/index.html $(API_BIN)/.installed $(MODEL)
	cd dashboard && npm run test:e2e

# The shopper app (mobile/, Expo): strict type check and unit tests (jest-expo),
# the native config and `expo prebuild` into a temp copy (no Xcode/Android SDK
# needed), then the web build in headless Chromium against the real Rasa, action
# server and api, an operator reply included (mobile/README.md).
.PHONY: test-mobile
mobile/node_modules/.package-lock.json: mobile/package-lock.json
	cd mobile && npm ci --no-audit --no-fund
test-mobile: mobile/node_modules/.package-lock.json $(API_BIN)/.installed $(MODEL)
	cd mobile && npx tsc --noEmit && npx jest --ci
	bash mobile/scripts/check-native.sh
	cd mobile && node e2e/run.mjs

# Production profile against real PostgreSQL, Redis, RabbitMQ and nginx: replicas,
# ordering, faults (deploy/production/README.md). Private service instances are
# started on other ports for the fault tests.
test-production: $(MODEL)
	@command -v nginx >/dev/null 2>&1 || { echo "nginx not found: apt-get install -y nginx"; exit 1; }
	$(BIN)/pytest -q tests/production

test-nlu: $(MODEL)
	$(BIN)/rasa test nlu --nlu tests/nlu -m $(MODEL) --out results/nlu
	$(BIN)/python -m tests.nlu_gate results/nlu/intent_report.json $(NLU_MIN_ACCURACY) $(NLU_MIN_ENTITY_F1)
	$(BIN)/python -m tests.shoppers_gate --split test --json results/shoppers/test.json $(SHOPPERS_FLOORS)

test-core: $(MODEL)
	$(BIN)/rasa test core --stories tests -m $(MODEL) --out results/core --fail-on-prediction-errors

test: system-deps lint validate pytest test-llm test-api test-deploy test-nlu test-core test-e2e test-dashboard test-mobile test-production ## Everything CI runs: lint, unit, llm, api, deploy, NLU, conversation, e2e, browser, mobile, production

# Benchmarks against stock Rasa in the same run (bench/README.md); not part of
# `make test`. FULL=1 for the full test splits (hours for stock DIET).
bench: $(BIN)/.installed ## Benchmarks: NLU on public data sets, serving, start-up, retrieval (FULL=1)
	$(BIN)/python -m bench $(if $(FULL),--full,)

clean: ## Remove the environment, models and local data
	rm -rf $(VENV) api/.venv deploy/.venv llm/.venv models/*.tar.gz var results
