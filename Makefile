# The two commands: `make demo` runs the main job offline, `make test` runs every test.
# Each sets up its own environment from nothing: a bootstrap uv, then the locked virtual environment.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
# checkov pins libraries that clash with Pulumi's, so it lives in its own virtual environment.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# Pulumi's SDKs are large: cached bytecode makes every later run of the program several times faster.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup test test-template lint demo platform-json bench-platform policy-check plan plan-diff \
	bench-policy bench-template checkov bench bench-serving vendor-refresh

help:
	@echo "make demo   run the main job offline on embedded defaults"
	@echo "make test   set everything up and run every test"
	@echo "make lint   ruff over the repository"
	@echo "make policy-check         the policy pack over every committed stack, offline"
	@echo "make plan                 Markdown plan of every stack in build/plan/"
	@echo "make plan-diff BASE=<dir> what this checkout changes against BASE, in build/plan-diff.md"
	@echo "make test-template        only the copier template's tests (pipelines/template.yml)"
	@echo "make bench                the generated scoring service's benchmark and soak (needs wrk):"
	@echo "                          template/bench/RESULTS.md and SOAK.md"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

setup: $(VENV)/.synced

$(CHECKOV): | $(UV)
	$(UV) venv --quiet --python 3.11 $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Outputs of every stack in one document, from the program under Pulumi's mock runtime.
platform-json: setup
	$(PY) -m infra.tools.platform_json --offline --out $(BUILD)/platform.json

# The template's main job: stamp a project with that document and run its whole local pipeline.
DEMO := $(BUILD)/credit-scoring
demo: platform-json
	rm -rf $(DEMO)
	$(VENV)/bin/copier copy --quiet --defaults --vcs-ref HEAD --data-file $(BUILD)/platform.json . $(DEMO)
	git init -q $(DEMO)
	$(MAKE) --no-print-directory -C $(DEMO) all UV=$(abspath $(UV))
	@echo
	@echo "stamped project (rendered files): $(DEMO)/"
	@echo "model:        models:/credit-scoring@champion, files under $(DEMO)/mlartifacts/"
	@echo "model card:   $(DEMO)/artifacts/model_card.md"
	@echo "MLflow store: $(DEMO)/mlflow.db (browse: $(DEMO)/.venv/bin/mlflow ui --backend-store-uri sqlite:///$(abspath $(DEMO))/mlflow.db)"
	@echo "step results: $(DEMO)/artifacts/*.json"

# One pytest-xdist worker per core. Most of the time goes to the stamped projects' own `make test`, minutes
# each: tests/conftest.py puts those tests first and workers take one test at a time, so they spread over
# the workers before the short tests fill the gaps.
WORKERS ?= auto
PYTEST := $(PY) -m pytest --numprocesses $(WORKERS) --dist load --maxschedchunk 1

test: setup lint $(CHECKOV)
	$(PYTEST)

# The copier template's matrix and the generated projects' checks, alone: pipelines/template.yml runs it.
test-template: setup $(CHECKOV)
	$(PYTEST) tests/template

# Guardrails: the policy pack (infra/policies) over every stack under the mock runtime; exit 1 on a
# mandatory violation. The same pack runs for real with `pulumi preview --policy-pack infra/policies`.
policy-check: setup
	$(PY) -m infra.tools.policy_check

plan: setup
	$(PY) -m infra.tools.plan --out-dir $(BUILD)/plan

# BASE is a checkout of the target branch (e.g. `git worktree add ../base main`); its program runs
# in its own interpreter.
plan-diff: setup
	@test -n "$(BASE)" || { echo "usage: make plan-diff BASE=<checkout of the target branch>" >&2; exit 2; }
	$(PY) -m infra.tools.plan_diff --base "$(BASE)" --out $(BUILD)/plan-diff.md

bench-policy: setup
	$(PY) -m tests.benchmarks.bench_policy_check

# Timing of the program under mocks: four stacks, and one stack by number of onboarded projects.
bench-platform: setup
	$(PY) -m tests.benchmarks.bench_stacks

# Timing of stamping a project and of its `make all` with dependencies installed.
bench-template: setup
	$(PY) -m tests.benchmarks.bench_template

# The generated project's scoring service against mlflow models serve, azureml-inference-server-http and a
# bare ASGI ceiling, then its soak, from a freshly stamped project; reports land in template/bench/.
bench-serving: setup
	$(PY) -m tests.benchmarks.bench_serving

bench: bench-serving

# The vendored CRDs and Azure role definitions, downloaded again from their pinned upstream commits
# (vendor/pins.json) and checked against the pinned digests; needs access to GitHub.
vendor-refresh: setup
	$(PY) -m vendor.refresh
