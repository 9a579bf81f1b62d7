# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on demand.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run chat test lint bench eval calibrate manifest playground clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser test drives Microsoft's Agents Playground in Debian's Chromium, inside a
# loopback-only network namespace (unshare -n), which needs root.
/usr/bin/chromium:
	@if [ "$$(id -u)" != 0 ]; then echo "The browser test needs Debian's chromium: run 'sudo apt-get install chromium' (or make test as root)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null

run: $(VENV)/.installed
	$(VENV)/bin/omtanke serve

chat: $(VENV)/.installed
	$(VENV)/bin/omtanke chat

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

test: $(VENV)/.installed node_modules/.installed /usr/bin/chromium lint
	$(VENV)/bin/pytest -q -n 2

bench: $(VENV)/.installed
	$(PY) -m benchmarks

eval: $(VENV)/.installed
	$(PY) -m knowledge.coverage
	$(PY) -m knowledge.eval
	$(PY) -m knowledge.loso
	$(PY) -m dialogs.intent_eval
	$(PY) -m dialogs.intent_train --check

calibrate: $(VENV)/.installed
	$(PY) -m knowledge.calibrate

playground: $(VENV)/.installed node_modules/.installed
	bash tests/browser/run_journey.sh --interactive

manifest: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/omtanke manifest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
