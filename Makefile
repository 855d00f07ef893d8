# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench bench-check clean install

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bms demo

lint: $(STAMP)
	$(BIN)/ruff check bms_excel tests
	$(BIN)/ruff format --check bms_excel tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# A fresh N-unit run (300 by default) must meet every must-target, and so must the committed
# results the README cites (bench/results/readme/, the N = 10 000 run takes ~20 minutes).
N ?= 300
bench-check: $(STAMP)
	$(BIN)/python -m bench --n $(N) --check
	$(BIN)/python -m bench.check

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
