# Two commands for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit scenarios bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m worker demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	TZ=UTC $(BIN)/python -m pytest

# The scenario suites again, through the real Zendesk and Freshdesk adapters against their
# stateful fakes (tests/fakes/world.py, WORLD_BACKEND); tests marked memory_only are skipped there.
SCENARIOS := tests/service/test_procedure_*.py
scenarios: $(STAMP)
	WORLD_BACKEND=zendesk TZ=UTC $(BIN)/python -m pytest $(SCENARIOS)
	WORLD_BACKEND=freshdesk TZ=UTC $(BIN)/python -m pytest $(SCENARIOS)

test: lint typecheck unit scenarios

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
