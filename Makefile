# ecs-autopsy. `make demo` runs the main job, `make test` the tests; both set up .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test reliability lint bench synth clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/python -m shared.demo

# The reliability tests (tests/reliability: secrets masking, bad-input fuzzing) print their figures
# at the end of every pytest run, so `make test` shows them; `make reliability` runs only them.
test: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/python -m pytest

reliability: $(STAMP)
	@$(BIN)/python -m pytest -q tests/reliability

lint: $(STAMP)
	@$(BIN)/ruff check .

bench: $(STAMP)
	@$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) cdk.out demo-out .pytest_cache .ruff_cache
