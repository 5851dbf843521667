# ecs-autopsy. `make demo` runs the main job, `make test` the tests. Each target first runs
# tools/prereq.sh, which checks Python 3.11+ (PYTHON=..., else python3.13/3.12/3.11/python3), rebuilds a
# stale .venv, and installs only the extra the target needs (demo, dev, infra), once.
VENV   := .venv
BIN    := $(VENV)/bin
PREREQ := sh tools/prereq.sh
export PYTHON VENV

.PHONY: demo test unit typecheck reliability lint bench synth taxonomy regex-words clean

# `make demo`: the Lambda handlers against a local AWS stand-in (moto server) and a local Slack webhook,
# scenario by scenario; writes demo-out/ (Slack payloads, SNS messages, index.html). Under a minute.
demo:
	@$(PREREQ) venv demo
	@$(BIN)/python -m demo

# The reliability tests (tests/reliability: bad input, faults, duplicates and storms, secrets, Slack
# injection, least privilege) print their figures at the end of every pytest run, so `make test`
# shows them; `make reliability` runs only them.
test:
	@$(PREREQ) venv dev
	@$(BIN)/ruff check .
	@$(BIN)/python -m pytest

# `make unit`: the pure tests (patterns, engine, renderers, schema, architecture): the quick check. The
# corpus-wide and generated-input equivalence checks of the speed-ups (old vs rewritten regex, brute force vs
# indexed search) and the hostile 16 KB lines timed against the clock are marked slow and run in `make test`
# only; their near misses stay here. No unit test uses hypothesis: without its pytest plugin, whose end-of-run
# summary imports all of hypothesis (assertion-rewritten, as pytest does to a plugin's package), the run is
# about a second shorter. Bytecode (pytest's assertion-rewritten test modules too) is kept in $(VENV)/pycache,
# never beside the sources, even where PYTHONDONTWRITEBYTECODE is set: compiling every module and rewriting
# every test file on each run was half of the collection (~1.5 s of CPU). The tests run in UNIT_WORKERS
# pytest-xdist workers (0: in pytest's own process). Each worker starts, collects and warms up on its own
# (~1.4x the CPU of one process), so 2 workers pay on an idle 2-core machine, not on a busy one: there
# `make unit UNIT_WORKERS=0`. A worker takes a whole test module at a time (`--dist loadscope`), and the modules
# that read every case's finding go to one worker together (tests/unit/conftest.py, tests/support/diagnosed.py),
# which diagnoses each case once.
UNIT_WORKERS ?= 2
unit:
	@$(PREREQ) venv dev
	@PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$(abspath $(VENV))/pycache" \
	  $(BIN)/python -m pytest -q -p no:cacheprovider -p no:hypothesispytest -m "not slow" \
	  -n $(UNIT_WORKERS) --dist loadscope tests/unit

typecheck:
	@$(PREREQ) venv dev
	@$(BIN)/python -m mypy

reliability:
	@$(PREREQ) venv dev
	@$(BIN)/python -m pytest -q tests/reliability

lint:
	@$(PREREQ) venv dev
	@$(BIN)/ruff check .

# `make taxonomy`: docs/taxonomy.md from the pattern registry (a test fails when the committed one is stale).
taxonomy:
	@$(PREREQ) venv core
	@$(BIN)/python -m shared.taxonomy > docs/taxonomy.md.tmp && mv docs/taxonomy.md.tmp docs/taxonomy.md

# `make regex-words`: shared/regex_words.py, the words of every lazy regex, known ahead for a cold start (a regex
# not in it is compiled as before; a test asks for a refresh once a tenth are missing).
regex-words:
	@$(PREREQ) venv core
	@$(BIN)/python -m shared.scan > shared/regex_words.py.tmp && mv shared/regex_words.py.tmp shared/regex_words.py

# `make bench`: the engine alone, then the whole pipeline against the same stand-in as `make demo`.
bench:
	@$(PREREQ) venv dev
	@$(BIN)/python benchmarks/bench_engine.py
	@$(BIN)/python benchmarks/bench_pipeline.py

# `make synth`: cdk.out/ with the CloudFormation templates, no AWS account, no Docker. Installs the
# CDK CLI into ./node_modules (npm) when missing; bundles the Lambda code with pip (PyPI); fails on
# any unacknowledged cdk-nag finding or cfn-lint error.
CDK_CLI_VERSION := 2.1148.1
CDK := node_modules/.bin/cdk
CDK_ENV := CDK_DISABLE_CLI_TELEMETRY=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

$(CDK):
	@$(PREREQ) node
	@npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error aws-cdk@$(CDK_CLI_VERSION)

synth: $(CDK)
	@$(PREREQ) node
	@$(PREREQ) venv infra
	@rm -rf cdk.out
	@$(CDK_ENV) $(CDK) synth --no-notices --quiet $(CDK_ARGS)
	@# W3005: CDK's Function adds a DependsOn on its role, which its Role property already implies.
	@$(BIN)/cfn-lint --non-zero-exit-code error --ignore-checks W3005 -- cdk.out/*.template.json
	@ls cdk.out/*.template.json

clean:
	rm -rf $(VENV) cdk.out demo-out .pytest_cache .ruff_cache node_modules
