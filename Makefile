# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on demand.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run chat test lint bench eval manifest clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/omtanke serve

chat: $(VENV)/.installed
	$(VENV)/bin/omtanke chat

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(VENV)/.installed node_modules/.installed lint
	$(VENV)/bin/pytest -q

eval: $(VENV)/.installed
	$(PY) -m knowledge.eval

manifest: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/omtanke manifest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
