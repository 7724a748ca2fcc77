# Everything a newcomer needs, installed into the checkout: a virtualenv with the
# package and its development tools, Node 22 and the pinned CDK CLI (package.json).
# Targets are idempotent; stamps make re-runs skip what is already installed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
NODE_BIN := $(CURDIR)/node_modules/.bin
# jsii (inside aws-cdk-lib) and the CDK CLI run on the pinned Node 22, not the machine's Node.
export JSII_NODE := $(NODE_BIN)/node
export NO_MKDOCS_2_WARNING := 1
export PATH := $(NODE_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
PYTEST_ARGS ?=

.PHONY: help setup main test matrix deploy-local docs synth bench integ release release-dry-run clean

help:
	@echo "make main   - synthesize the flagship app, check compliance, run the document flow locally"
	@echo "make test   - run the test suite (installs everything first), then the version matrix"
	@echo "make matrix - the version matrix alone: other Pythons (wheel, synth, handler tests), aws-cdk-lib floor"
	@echo "make deploy-local - deploy every example app on a local CloudFormation engine, run the flow, redeploy"
	@echo "make docs   - build the documentation site into site/"
	@echo "make synth  - cdk synth through the pinned CLI"
	@echo "make bench  - run the benchmarks"
	@echo "make integ  - deploy the integ tests to the AWS account of your credentials, assert, destroy"
	@echo "make release-dry-run / make release - build, check, publib-pypi dry run / publish to PyPI"

setup: .stamps/python .stamps/node .stamps/graphviz

.stamps/python: pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@mkdir -p .stamps && touch $@

.stamps/node: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p .stamps && touch $@

# Graphviz's dot lays out the architecture diagrams of the docs (scripts/diagram_svg.py).
.stamps/graphviz:
	@command -v dot >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	  else echo "Graphviz is missing: apt-get install graphviz (or brew install graphviz)"; exit 1; fi; }
	@mkdir -p .stamps && touch $@

main: setup
	@$(PY) scripts/main_job.py

# With PYTEST_ARGS (a selection) only pytest runs; the whole suite is followed by the matrix.
test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)
	@if [ -z "$(PYTEST_ARGS)" ]; then $(MAKE) --no-print-directory matrix; fi

# noxfile.py: interpreters this machine lacks are reported as skipped, not failed.
matrix: setup
	@echo "version matrix: the full suite above ran on $$($(PY) -c 'import platform; print("CPython", platform.python_version())')"
	@$(VENV)/bin/nox --no-error-on-missing-interpreters

# The local CloudFormation engine (MiniStack) pins its own botocore: it gets a virtualenv of its own.
ENGINE_VENV := .venv-engine

.stamps/engine: engine-requirements.txt
	@test -x $(ENGINE_VENV)/bin/python || python3 -m venv $(ENGINE_VENV)
	@$(ENGINE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r engine-requirements.txt
	@mkdir -p .stamps && touch $@

deploy-local: setup .stamps/engine
	@$(PY) scripts/deploy_local.py

docs: setup
	@$(PY) -m mkdocs build --strict

synth: setup
	@cdk synth --quiet

bench: setup
	@$(PY) benchmarks/run_all.py

# Deploys to a real AWS account (costs money; see docs/integ_tests.md). INTEG="quickstart ..."
# picks tests, INTEG_ARGS=--no-clean keeps the stacks. Without credentials: exits 2, deploys nothing.
INTEG ?=
INTEG_ARGS ?=
integ: setup
	@$(PY) scripts/integ.py $(INTEG_ARGS) $(INTEG)

release-dry-run: setup
	@$(PY) scripts/release.py --dry-run

release: setup
	@$(PY) scripts/release.py

clean:
	rm -rf $(VENV) $(ENGINE_VENV) node_modules .stamps cdk.out site dist build .nox
