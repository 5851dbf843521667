# ecs-autopsy. `make demo` runs the main job, `make test` the tests; both set up .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench synth clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/python -m shared.demo

test: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/python -m pytest

lint: $(STAMP)
	@$(BIN)/ruff check .

bench: $(STAMP)
	@$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) cdk.out demo-out .pytest_cache .ruff_cache
