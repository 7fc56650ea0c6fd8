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
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# Pulumi's SDKs are large: cached bytecode makes every later run of the program several times faster.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup test lint demo platform-json bench-platform bench-template

help:
	@echo "make demo   run the main job offline on embedded defaults"
	@echo "make test   set everything up and run every test"
	@echo "make lint   ruff over the repository"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

setup: $(VENV)/.synced

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

test: setup lint
	$(PY) -m pytest

# Timing of the program under mocks: four stacks, and one stack by number of onboarded projects.
bench-platform: setup
	$(PY) -m tests.benchmarks.bench_stacks

# Timing of stamping a project and of its `make all` with dependencies installed.
bench-template: setup
	$(PY) -m tests.benchmarks.bench_template
