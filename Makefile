# ecs-autopsy. `make demo` runs the main job, `make test` the tests; both set up .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test unit typecheck reliability lint bench synth clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# `make demo`: the Lambda handlers against a local AWS stand-in (moto server) and a local Slack webhook,
# scenario by scenario; writes demo-out/ (Slack payloads, SNS messages, index.html). Under a minute.
demo: $(STAMP)
	@$(BIN)/python -m demo

# The reliability tests (tests/reliability: bad input, faults, duplicates and storms, secrets, Slack
# injection, least privilege) print their figures at the end of every pytest run, so `make test`
# shows them; `make reliability` runs only them.
test: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/python -m pytest

# `make unit`: the pure tests (patterns, engine, renderers, schema, architecture): the quick check.
unit: $(STAMP)
	@$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

typecheck: $(STAMP)
	@$(BIN)/python -m mypy

reliability: $(STAMP)
	@$(BIN)/python -m pytest -q tests/reliability

lint: $(STAMP)
	@$(BIN)/ruff check .

# `make bench`: the engine alone, then the whole pipeline against the same stand-in as `make demo`.
bench: $(STAMP)
	@$(BIN)/python benchmarks/bench_engine.py
	@$(BIN)/python benchmarks/bench_pipeline.py

# `make synth`: cdk.out/ with the CloudFormation templates, no AWS account, no Docker. Installs the
# CDK CLI into ./node_modules (npm) when missing; bundles the Lambda code with pip (PyPI); fails on
# any unacknowledged cdk-nag finding or cfn-lint error.
CDK_CLI_VERSION := 2.1148.1
CDK := node_modules/.bin/cdk
CDK_ENV := CDK_DISABLE_CLI_TELEMETRY=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

$(CDK):
	@npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error aws-cdk@$(CDK_CLI_VERSION)

synth: $(STAMP) $(CDK)
	@rm -rf cdk.out
	@$(CDK_ENV) $(CDK) synth --no-notices --quiet $(CDK_ARGS)
	@# W3005: CDK's Function adds a DependsOn on its role, which its Role property already implies.
	@$(BIN)/cfn-lint --non-zero-exit-code error --ignore-checks W3005 -- cdk.out/*.template.json
	@ls cdk.out/*.template.json

clean:
	rm -rf $(VENV) cdk.out demo-out .pytest_cache .ruff_cache node_modules
