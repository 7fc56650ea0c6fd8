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
# Every stack, in the order they deploy (infra/stacks.py EVERY; a test keeps them equal).
STACKS := bootstrap shared dev dev-cluster qa qa-cluster prod prod-cluster
# checkov pins libraries that clash with Pulumi's, so it lives in its own virtual environment.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# The KQL check (infra/kql.py) runs Kusto.Language, Microsoft's KQL parser, compiled to JavaScript, with node.
KUSTO := infra/kusto/node_modules/.installed
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# Pulumi's SDKs are large: cached bytecode makes every later run of the program several times faster.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup test test-template lint demo platform-json bench-platform policy-check plan plan-diff \
	bench-policy bench-template checkov kusto bench bench-serving vendor-refresh preflight bench-preflight bootstrap \
	pr-comment tag-template update-summary kubelogin cluster-network

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

#@ local
setup: $(VENV)/.synced

$(CHECKOV): | $(UV)
	$(UV) venv --quiet --python 3.11 $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV)

$(KUSTO): infra/kusto/package.json infra/kusto/package-lock.json
	@command -v npm > /dev/null || { echo "the KQL check needs Node.js 18+ and npm: apt-get install nodejs npm" >&2; exit 1; }
	npm ci --prefix infra/kusto --no-audit --no-fund --silent
	touch $@

kusto: $(KUSTO)

#@ local
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
	@echo "model:        the version tagged role=champion in the MLflow registry, files under $(DEMO)/mlartifacts/"
	@echo "model card:   $(DEMO)/artifacts/model_card.md"
	@echo "MLflow store: $(DEMO)/mlflow.db (browse: $(DEMO)/.venv/bin/mlflow ui --backend-store-uri sqlite:///$(abspath $(DEMO))/mlflow.db)"
	@echo "step results: $(DEMO)/artifacts/*.json"
	@echo "the loop:     inference data $(DEMO)/artifacts/inference-data/ (Azure ML data collector layout),"
	@echo "              drift report $(DEMO)/artifacts/drift/report.md with a chart per drifted column,"
	@echo "              retraining on the newest labelled snapshot $(DEMO)/artifacts/retrain/ (model_card.md)"

# One pytest-xdist worker per core, and one more: the tests spend part of their time waiting on the services
# and servers they start, and with one worker a core the cores idled a third of the time (two cores: 15 min
# 50 s with two workers, 13 min 20 s with three, 13 min 48 s with four). Most of the time goes to the
# stamped projects' own `make test`, minutes each: tests/conftest.py puts those tests first and workers take
# one test at a time, so they spread over the workers before the short tests fill the gaps.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := $(PY) -m pytest --numprocesses $(WORKERS) --dist load --maxschedchunk 1

#@ local
test: setup lint $(CHECKOV) $(KUSTO)
	$(PYTEST)

# The delivery path, offline, against Azure's and Azure DevOps' real rules: every operation of every pipeline
# step, who performs it and what grants it (build/preflight.json, build/preflight.md); exit 1 on any refusal.
# `make test` runs it too (tests/preflight/test_committed.py).
#@ local
preflight: setup
	$(PY) -m infra.preflight

# The copier template's matrix and the generated projects' checks, alone: pipelines/template.yml runs it.
#@ local
test-template: setup $(CHECKOV)
	$(PYTEST) tests/template

# Guardrails: the policy pack (infra/policies) over every stack under the mock runtime; exit 1 on a
# mandatory violation. The same pack runs for real with `pulumi preview --policy-pack infra/policies`.
#@ local
policy-check: setup
	$(PY) -m infra.tools.policy_check

plan: setup
	$(PY) -m infra.tools.plan --out-dir $(BUILD)/plan

# BASE is a checkout of the target branch (e.g. `git worktree add ../base main`); its program runs
# in its own interpreter.
#@ local
plan-diff: setup
	@test -n "$(BASE)" || { echo "usage: make plan-diff BASE=<checkout of the target branch>" >&2; exit 2; }
	$(PY) -m infra.tools.plan_diff --base "$(BASE)" --out $(BUILD)/plan-diff.md

# Once per organisation, by an administrator signed in with `az login` (README, "Deploying for real"): the state
# backend (infra/bootstrap/state_backend.sh), every stack initialised on it, then `pulumi up` of the bootstrap stack.
# Every value comes from Pulumi.bootstrap.yaml and the environments' stack files.
bootstrap: setup
	@command -v pulumi > /dev/null || { echo "make bootstrap needs the Pulumi CLI: https://www.pulumi.com/docs/install/" >&2; exit 1; }
	eval "$$($(PY) -m infra.bootstrap.backend)"; \
	bash infra/bootstrap/state_backend.sh "$$STATE_SUBSCRIPTION" "$$STATE_LOCATION" "$$PREFIX" > /dev/null; \
	export AZURE_STORAGE_ACCOUNT="$$STATE_ACCOUNT" PATH="$(abspath $(TOOLS))/bin:$$PATH"; \
	pulumi login "$$BACKEND_URL"; \
	for stack in $(STACKS); do \
		pulumi stack select "$$stack" 2> /dev/null || pulumi stack init "$$stack" --secrets-provider "$$SECRETS_PROVIDER"; \
	done; \
	pulumi up --stack bootstrap

# ---------------------------------------------------------------------------------------------------
# What only this repository's pipelines run (pipelines/), each declaring its operations for the preflight.

# The plan diff as the pull request's comment, written with the job's token (SYSTEM_ACCESSTOKEN).
#@ devops pr-comment on platform-repository
pr-comment: setup
	$(PY) pipelines/scripts/pr_comment.py $(BUILD)/plan-diff.md

# The next template version (vX.Y.Z) on this commit, pushed with the job's token; nothing when it has one.
#@ devops tag on platform-repository
tag-template: setup
	@tag="$$($(PY) pipelines/scripts/template_version.py)"; \
	if [ -z "$$tag" ]; then echo "This commit already carries a template version."; exit 0; fi; \
	git -c user.name="Azure Pipelines" -c user.email="azure-pipelines@noreply.invalid" \
		tag --annotate "$$tag" --message "copier template $$tag"; \
	git push origin "refs/tags/$$tag"; \
	echo "##vso[build.addbuildtag]$$tag"

# What the last `pulumi up` of STACK changed, for the run's summary page; reads the state with the stack's
# deploy identity.
#@ data Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read on state-container
update-summary: setup
	@test -n "$(STACK)" || { echo "usage: make update-summary STACK=<stack>" >&2; exit 2; }
	pulumi stack history --stack $(STACK) --json | $(PY) pipelines/scripts/update_summary.py $(STACK)

# The in-cluster stacks' Kubernetes provider signs in to AKS through kubelogin (infra/kubeconfig.py), which
# Microsoft-hosted agents do not have (actions/runner-images#14752): pipelines/templates/pulumi-steps.yml runs
# this before Pulumi and puts $(KUBE_BIN) on the PATH.
KUBE_BIN := $(TOOLS)/kube
#@ tool az
#@ installs kubelogin
kubelogin:
	az aks install-cli --install-location $(KUBE_BIN)/kubectl --kubelogin-install-location $(KUBE_BIN)/kubelogin \
		--only-show-errors

# Whether ENVIRONMENT's in-cluster stack must run inside its VNet (its networkIsolation), as the output variable
# pipelines/templates/cluster-jobs.yml picks the agent by (infra/tools/cluster_network.py).
#@ local
cluster-network: setup
	@test -n "$(ENVIRONMENT)" || { echo "usage: make cluster-network ENVIRONMENT=<environment>" >&2; exit 2; }
	$(PY) -m infra.tools.cluster_network $(ENVIRONMENT)

bench-policy: setup
	$(PY) -m tests.benchmarks.bench_policy_check $(if $(BASE),--base "$(BASE)")

# Time of `make preflight` in fresh processes (target: under 60 s).
bench-preflight: setup
	$(PY) -m tests.benchmarks.bench_preflight

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
