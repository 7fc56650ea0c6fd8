"""What each pipeline does once its templates are expanded: PR and drift never apply, deploy applies in
order behind environments, the template pipeline tests and tags; and what they share."""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
import yaml
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

from infra import naming, outputs
from infra.platform_pipelines import IN_NETWORK
from infra.platform_pipelines import environment as platform_environment
from infra.platform_pipelines import stage as stage_of
from infra.preflight.azure_pipelines import (
    PIPELINES,
    REPO_ROOT,
    all_jobs,
    all_steps,
    expand,
    job_steps,
    load,
    script_text,
    stages,
)
from infra.stacks import ALL, CLUSTERS, ENVIRONMENTS, SHARED, environment_of, identity_stack
from infra.tools.mock_run import run_stack

PULUMI_TASK = "Pulumi@1"
# Pulumi commands that change a stack or its state; `preview`, even with --refresh, changes neither.
APPLYING = re.compile(
    r"\bpulumi\s+(up|update|destroy|refresh|import|cancel|state|stack\s+(rm|init|import))\b"
)
READ_ONLY_TASKS = frozenset({PULUMI_TASK, "AzureCLI@2", "UsePythonVersion@0", "PublishPipelineArtifact@1"})
# Make targets that only read: tests, offline checks, the offline plan diff, kubelogin onto the agent.
READ_ONLY_TARGETS = frozenset(
    {
        "setup",
        "test",
        "lint",
        "policy-check",
        "plan-diff",
        "test-template",
        "preflight",
        "pr-comment",
        "kubelogin",
        "cluster-network",
    }
)
# A make command's first target, after its options.
MAKE = re.compile(r"\bmake\s+(?:--?[\w-]+\s+)*([\w-]+)")


def in_cluster_jobs(jobs: Iterable[Mapping[str, Any]], environment: str) -> dict[str, Mapping[str, Any]]:
    """The jobs that run an environment's in-cluster stack, by the IN_NETWORK answer each runs on."""
    found = {}
    for job in jobs:
        steps = pulumi_steps(job_steps(job))
        if steps and steps[0]["inputs"]["stack"] == f"{environment}-cluster":
            (answer,) = re.findall(rf"outputs\['network\.{IN_NETWORK}'\], '(true|false)'", job["condition"])
            assert answer not in found
            found[answer] = job
    return found


def assert_in_cluster_jobs(jobs: list[dict[str, Any]], environment: str) -> None:
    """One job asks the stack file, then exactly one of two runs: on the environment's pool when isolated (the
    pool its stack exports), on a Microsoft-hosted agent otherwise."""
    found = in_cluster_jobs(jobs, environment)
    assert set(found) == {"true", "false"}
    assert "pool" not in found["false"] or not found["false"]["pool"].get("name")
    assert found["true"]["pool"]["name"] == run_stack(environment).outputs[outputs.AGENT_POOL]
    (network,) = [
        job
        for job in jobs
        if any(
            f"make --silent cluster-network ENVIRONMENT={environment}" in (script_text(step) or "")
            for step in job_steps(job)
        )
    ]
    for job in found.values():
        assert job["dependsOn"] == network["job"]


def pulumi_steps(steps: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [step for step in steps if step.get("task") == PULUMI_TASK]


def pulumi_setting(name: str) -> str:
    """A setting of the pipelines: a parameter default of templates/pulumi-steps.yml."""
    parameters = load(PIPELINES / "templates" / "pulumi-steps.yml")["parameters"]
    (value,) = [parameter["default"] for parameter in parameters if parameter["name"] == name]
    return value


def apply_violations(pipeline: Mapping[str, Any]) -> list[str]:
    """Everything in an expanded pipeline that could change a stack."""
    violations = [
        f"deployment job {job['deployment']}: read-only pipelines bind no environment"
        for job in all_jobs(pipeline)
        if "deployment" in job
    ]
    for step in all_steps(pipeline):
        name = step.get("displayName") or step.get("task") or "script"
        task = step.get("task")
        if task is not None and task not in READ_ONLY_TASKS:
            violations.append(f"{name}: task {task} is not known to be read-only")
        if task == PULUMI_TASK and step["inputs"]["command"] != "preview":
            violations.append(f"{name}: pulumi {step['inputs']['command']}")
        texts = [str(value) for value in step.get("inputs", {}).values()]
        if (script := script_text(step)) is not None:
            texts.append(script)
            violations += [
                f"{name}: make {target}" for target in MAKE.findall(script) if target not in READ_ONLY_TARGETS
            ]
            if task == "AzureCLI@2" and re.search(r"(^|[;&|(]\s*)az\s", script, re.MULTILINE):
                violations.append(f"{name}: runs az commands")
        violations += [f"{name}: {match.group(0)}" for text in texts if (match := APPLYING.search(text))]
    return violations


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return expand(PIPELINES / "pr.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return expand(PIPELINES / "deploy.yml")


@pytest.fixture(scope="module")
def drift() -> dict[str, Any]:
    return expand(PIPELINES / "drift.yml")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return expand(PIPELINES / "template.yml")


# Pull requests


def test_pr_pipeline_can_never_apply(pr: dict[str, Any]) -> None:
    assert apply_violations(pr) == []


def test_pr_read_only_check_catches_applying_steps() -> None:
    tampered = expand(PIPELINES / "pr.yml")
    preview_job = stages(tampered)[1]["jobs"][0]
    preview_job["steps"] += [
        {"task": PULUMI_TASK, "inputs": {"command": "up", "stack": "dev", "args": "--yes"}},
        {"task": PULUMI_TASK, "inputs": {"command": "preview", "stack": "dev", "args": "; pulumi destroy"}},
        {"script": "pulumi refresh --yes -s dev"},
        {"script": "make deploy"},
        {"task": "AzureCLI@2", "inputs": {"inlineScript": "az group delete -n rg-x"}},
        {"task": "Bash@3", "inputs": {"targetType": "inline", "script": "echo"}},
    ]
    deployment = {
        "deployment": "up",
        "environment": "dev",
        "strategy": {"runOnce": {"deploy": {"steps": []}}},
    }
    stages(tampered)[0]["jobs"].append(deployment)
    violations = "\n".join(apply_violations(tampered))
    for expected in (
        "deployment job up",
        "pulumi up",
        "pulumi destroy",
        "pulumi refresh",
        "make deploy",
        "runs az commands",
        "task Bash@3",
    ):
        assert expected in violations


def test_read_only_make_targets_do_not_apply() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in READ_ONLY_TARGETS:
        recipe = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)*)", makefile, re.MULTILINE)
        # Targets another change brings (policy-check, plan-diff) are checked once they exist.
        if recipe is not None:
            assert not APPLYING.search(recipe.group(1)), target


def test_pr_pipeline_runs_offline_checks_then_previews_every_stack(pr: dict[str, Any]) -> None:
    assert pr["trigger"] == "none"
    assert pr["pr"]["branches"]["include"] == ["main"]
    offline, preview = stages(pr)
    scripts = [script_text(step) or "" for step in job_steps(offline["jobs"][0])]
    for command in (
        "make test",
        "make policy-check",
        "make plan-diff BASE=",
        "make preflight",
        "make pr-comment",
    ):
        assert any(command in script for script in scripts), command
    assert preview["dependsOn"] == offline["stage"]
    previews = pulumi_steps(job_steps(preview["jobs"][0]))
    assert [step["inputs"]["stack"] for step in previews] == [SHARED, *ENVIRONMENTS]
    for environment in ENVIRONMENTS:
        assert_in_cluster_jobs(preview["jobs"], environment)
        for job in in_cluster_jobs(preview["jobs"], environment).values():
            previews += pulumi_steps(job_steps(job))
    assert {step["inputs"]["stack"] for step in previews} == set(ALL)
    for step in previews:
        # A pull request runs its own program: only the read-only preview identity may run it.
        assert step["inputs"]["azureSubscription"] == naming.platform_service_connection(
            pulumi_setting("prefix"), identity_stack(step["inputs"]["stack"]), preview=True
        )
        assert step["inputs"]["args"].split() == ["--diff", "--policy-pack", "infra/policies"]
        assert step["inputs"]["createPrComment"] is True
        # Every stack gets its preview even after another failed: in one job by the condition, the in-cluster
        # stacks by running in jobs of their own that depend on nothing but their network answer.
        assert step["condition"] == (
            "succeeded()" if step["inputs"]["stack"] in CLUSTERS else "succeededOrFailed()"
        )


def test_pr_comment_gets_the_token_only_through_env(pr: dict[str, Any]) -> None:
    (comment,) = [step for step in all_steps(pr) if "make pr-comment" in (script_text(step) or "")]
    assert comment["env"] == {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"}
    assert "PullRequest" in comment["condition"]


# Deployment


def test_deploy_runs_the_stacks_in_order_with_environments_bound(deploy: dict[str, Any]) -> None:
    assert deploy["trigger"]["branches"]["include"] == ["main"]
    assert deploy["pr"] == "none"
    assert deploy["lockBehavior"] == "sequential"
    assert [stage["stage"] for stage in stages(deploy)] == [stage_of(stack) for stack in ALL]
    previous = None
    for stack, stage in zip(ALL, stages(deploy), strict=True):
        assert stage.get("dependsOn") == previous
        # The default condition, succeeded(): a failed stack stops every later one.
        assert "condition" not in stage
        environment = environment_of(stack)
        if environment is None:
            (job,) = stage["jobs"]
            deploying = [job]
        else:
            assert_in_cluster_jobs(stage["jobs"], environment)
            deploying = list(in_cluster_jobs(stage["jobs"], environment).values())
        for job in deploying:
            # An in-cluster stack deploys as its environment: the same connection and approvals.
            assert job["environment"] == platform_environment(identity_stack(stack))
            (up,) = pulumi_steps(job_steps(job))
            assert up["inputs"]["command"] == "up"
            assert up["inputs"]["stack"] == stack
            assert up["inputs"]["azureSubscription"] == naming.platform_service_connection(
                pulumi_setting("prefix"), identity_stack(stack)
            )
            assert {"--yes", "--policy-pack", "infra/policies"} <= set(up["inputs"]["args"].split())
            assert up.get("condition", "succeeded()") == "succeeded()"
            summary = job_steps(job)[-1]
            assert "make --silent update-summary" in script_text(summary)
            assert summary["inputs"]["azureSubscription"] == up["inputs"]["azureSubscription"]
            assert summary["condition"] == "succeededOrFailed()"
        previous = stage["stage"]


def test_deploy_never_continues_past_a_failure(deploy: dict[str, Any]) -> None:
    assert not [step for step in all_steps(deploy) if step.get("continueOnError") not in (None, "false")]


# Drift


def test_drift_runs_nightly_and_never_applies(drift: dict[str, Any]) -> None:
    (schedule,) = drift["schedules"]
    assert schedule["branches"]["include"] == ["main"]
    assert schedule["always"] == "true"
    assert drift["trigger"] == "none"
    assert drift["pr"] == "none"
    assert apply_violations(drift) == []
    checks = pulumi_steps(all_steps(drift))
    # Each in-cluster stack has two jobs, of which one runs (on its environment's pool or a hosted agent).
    assert [step["inputs"]["stack"] for step in checks] == [
        SHARED,
        *ENVIRONMENTS,
        *(stack for stack in CLUSTERS for _job in range(2)),
    ]
    for environment in ENVIRONMENTS:
        assert_in_cluster_jobs(list(all_jobs(drift)), environment)
    for step in checks:
        assert step["inputs"]["azureSubscription"].endswith(naming.PREVIEW_SUFFIX)
        assert {"--refresh", "--expect-no-changes", "--diff"} <= set(step["inputs"]["args"].split())
        # One drifted stack must not hide another: the in-cluster stacks run in jobs of their own.
        assert step["condition"] == (
            "succeeded()" if step["inputs"]["stack"] in CLUSTERS else "succeededOrFailed()"
        )


# The copier template


def test_template_pipeline_tests_on_change_and_tags_on_main(template: dict[str, Any]) -> None:
    for trigger in (template["trigger"], template["pr"]):
        assert {"template", "copier.yml"} <= set(trigger["paths"]["include"])
    render, release = stages(template)
    assert "make test-template" in [script_text(step) for step in job_steps(render["jobs"][0])]
    assert release["dependsOn"] == render["stage"]
    assert "eq(variables['Build.SourceBranch'], 'refs/heads/main')" in release["condition"]
    assert "ne(variables['Build.Reason'], 'PullRequest')" in release["condition"]
    assert script_text(job_steps(release["jobs"][0])[-1]) == "make tag-template"
    recipe = re.search(r"^tag-template:.*\n((?:\t.*\n)+)", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None and "template_version.py" in recipe.group(1)
    assert 'git push origin "refs/tags/$$tag"' in recipe.group(1)


def test_make_test_template_runs_the_template_tests() -> None:
    # make's own expansion of the recipe (variables included), printed without running anything.
    planned = subprocess.run(
        ["make", "--dry-run", "--always-make", "test-template"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [line for line in planned if "-m pytest" in line and line.endswith(" tests/template")]


# Shared by every pipeline

PIPELINE_NAMES = ("pr.yml", "deploy.yml", "drift.yml", "template.yml")


@pytest.mark.parametrize("name", PIPELINE_NAMES)
def test_pipeline_shape_is_shared(name: str) -> None:
    pipeline = expand(PIPELINES / name)
    assert pipeline["pool"] == load(PIPELINES / "pr.yml")["pool"]
    for job in all_jobs(pipeline):
        steps = job_steps(job)
        # Every job starts from the sources and the locked environment of templates/setup-steps.yml.
        assert steps[0]["checkout"] == "self"
        assert any("make setup" in (script_text(step) or "") for step in steps)
        # The repository stands alone: no job checks out anything but itself.
        assert [step["checkout"] for step in steps if "checkout" in step] == ["self"], job
    assert "resources" not in pipeline


def test_service_connections_follow_the_naming_rules() -> None:
    prefix = pulumi_setting("prefix")
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]["prefix"]["default"]
    assert prefix == declared
    # The platform deploys with administrator-made connections, never with the ones the environment
    # stacks create for the ML projects (those hold rights inside one resource group only).
    for stack in ALL:
        platform = naming.platform_service_connection(prefix, stack)
        assert f"sc-{prefix}-platform-{stack}" == platform
        if stack in ENVIRONMENTS:
            assert platform != naming.Names(prefix, stack, "").service_connection


def test_state_container_is_the_bootstrapped_one() -> None:
    script = (REPO_ROOT / "infra" / "bootstrap" / "state_backend.sh").read_text()
    (container,) = re.findall(r'^container="([^"]+)"$', script, re.MULTILINE)
    assert pulumi_setting("stateContainer") == container
    assert "PULUMI_STATE_ACCOUNT" in script


def test_pulumi_cli_is_the_locked_sdk_release() -> None:
    version = pulumi_setting("pulumiVersion")
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    (locked,) = [package["version"] for package in lock["package"] if package["name"] == "pulumi"]
    assert version == locked


def test_no_secret_in_pipelines_or_gitops() -> None:
    secrets = SecretsCollection()
    with default_settings():
        for path in [*PIPELINES.rglob("*"), *(REPO_ROOT / "gitops").rglob("*")]:
            if path.is_file():
                secrets.scan_file(str(path))
    assert not secrets.json()
    # The job token appears only where a step maps it into its environment.
    token = "$(System.AccessToken)"
    lines = [line for path in PIPELINES.rglob("*.yml") for line in path.read_text().splitlines()]
    # Only the PR comments use it; Pulumi's Azure DevOps provider signs in as the stack's own identity.
    assert {line.strip() for line in lines if token in line and not line.lstrip().startswith("#")} == {
        f"SYSTEM_ACCESSTOKEN: {token}"
    }
    for name in PIPELINE_NAMES:
        for step in all_steps(expand(PIPELINES / name)):
            outside_env = {key: value for key, value in step.items() if key != "env"}
            assert token not in str(outside_env)


def test_an_in_cluster_job_on_another_environments_pool_is_refused() -> None:
    tampered = expand(PIPELINES / "deploy.yml")
    (stage,) = [stage for stage in stages(tampered) if stage["stage"] == stage_of(CLUSTERS[1])]
    in_cluster_jobs(stage["jobs"], ENVIRONMENTS[1])["true"]["pool"]["name"] = run_stack(
        ENVIRONMENTS[0]
    ).outputs[outputs.AGENT_POOL]
    with pytest.raises(AssertionError):
        assert_in_cluster_jobs(stage["jobs"], ENVIRONMENTS[1])
