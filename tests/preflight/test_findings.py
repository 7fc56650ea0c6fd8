"""Each way a first real deployment failed, brought back: the preflight refuses it and names the step.

Every test breaks one thing in the committed platform (a role assignment, a dependency, a branch policy) or in
a rendered project (a condition, a declaration, a webhook), walks it, and expects a refusal naming the step,
identity, operation and resource; the committed versions pass (test_committed.py).
"""

from pathlib import Path

import yaml

from infra.platform_pipelines import environment as platform_environment
from infra.preflight import canary
from infra.preflight.order import check_creation_order, check_providers
from infra.preflight.platform import ROLE_ASSIGNMENT, Platform
from infra.preflight.platform_walk import walk_platform_pipelines
from infra.preflight.walk import Walk
from infra.stacks import ENVIRONMENTS, IDENTITY_STACKS
from tests.preflight.support import (
    copy_tree,
    edit,
    mutate,
    platform_copy,
    refused,
    walk_rendered,
    without_dependencies,
)


def _refusals(entries, step_part: str) -> list:
    return [entry for entry in refused(entries) if step_part in entry.step or step_part in entry.resource]


def test_committed_projects_pass(runs, rendered) -> None:
    for target, root in rendered.items():
        assert refused(walk_rendered(runs, root, target)) == []


def test_a_release_pushed_to_protected_main_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / "Makefile",
        "#@ devops push on branch $(DEPLOY_BRANCH)\nrelease:",
        "#@ devops push on branch main\nrelease:",
    )
    problems = _refusals(walk_rendered(runs, project), "make release")
    assert problems and all("TF402455" in entry.problem for entry in problems)
    assert problems[0].operation == "devops push" and "refs/heads/main" in problems[0].resource


def test_promotion_without_the_importer_role_on_the_previous_registry_is_refused(runs, rendered) -> None:
    broken = mutate(
        runs,
        "qa",
        lambda r: not (r.type == ROLE_ASSIGNMENT and r.name == "pipeline-previous-registry-import"),
    )
    problems = [e for e in refused(walk_rendered(broken, rendered["aks"])) if "promote-image" in e.step]
    assert problems
    entry = problems[0]
    assert entry.identity.startswith("sc-mlops-qa")
    assert entry.operation.endswith(("registries/pull/read", "registries/read"))
    assert "crmlopsdev" in entry.resource and entry.problem == "no role assignment grants it"


def test_an_endpoint_given_the_serving_identity_without_the_right_to_assign_it_is_refused(
    runs, rendered
) -> None:
    broken = mutate(
        runs,
        "dev",
        lambda r: not (r.type == ROLE_ASSIGNMENT and r.name.startswith("pipeline-serving-identity-")),
    )
    problems = [e for e in refused(walk_rendered(broken, rendered["aml-endpoint"])) if "blue-green" in e.step]
    assert problems
    assert {e.operation for e in problems} == {
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
    }
    assert all(e.resource.endswith("/userAssignedIdentities/id-mlops-dev-credit-scoring") for e in problems)


def test_kubectl_without_kubernetes_data_actions_is_refused(runs, rendered) -> None:
    broken = mutate(
        runs, "dev", lambda r: not (r.type == ROLE_ASSIGNMENT and r.name.startswith("pipeline-kube-"))
    )
    problems = [e for e in refused(walk_rendered(broken, rendered["aks"])) if "wait-rollout" in e.step]
    assert {e.operation for e in problems} >= {
        "Microsoft.ContainerService/managedClusters/apps/deployments/read",
        "Microsoft.ContainerService/managedClusters/flagger.app/canaries/read",
    }
    assert all("/namespaces/" in e.resource for e in problems)


def test_a_hosted_agent_touching_a_private_endpoint_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / ".azure-pipelines" / "templates" / "deploy-stage.yml",
        "pool: ${{ parameters.environment.pool }}",
        "pool: {vmImage: ubuntu-24.04}",
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if "no network path" in e.problem]
    assert {e.stack for e in problems} == {"qa", "prod"}
    assert all("wait-rollout" in e.step and "Microsoft-hosted" in e.problem for e in problems)
    assert all("private API server" in e.problem for e in problems)


def test_a_job_on_another_environments_pool_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aml-endpoint"], tmp_path / "project")
    drift = project / ".azure-pipelines" / "drift.yml"
    pools = yaml.safe_load(drift.read_text())["stages"][0]["jobs"][0]["pool"]
    edit(drift, f"name: {pools['name']}", f"name: {pools['name'].replace('prod', 'qa')}")
    problems = [e for e in refused(walk_rendered(runs, project)) if "no network path" in e.problem]
    assert problems and all(e.stack == "prod" and "drift" in e.pipeline for e in problems)


def test_kubelogin_used_without_installing_it_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(project / "Makefile", "#@ installs kubelogin\n", "")
    problems = [e for e in refused(walk_rendered(runs, project)) if e.operation == "run kubelogin"]
    # Neither Microsoft-hosted agents nor the pools' Azure Pipelines image carry kubelogin.
    assert {e.stack for e in problems} == {"dev", "qa", "prod"}
    assert all(e.problem.startswith("kubelogin is not on ") for e in problems)
    assert all(e.problem.endswith(" and no earlier target installs it") for e in problems)


def test_a_canary_without_traffic_is_refused(rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    canary_file = project / "deploy" / "overlays" / "qa" / "canary.yaml"
    document = yaml.safe_load(canary_file.read_text())
    del document["spec"]["analysis"]["webhooks"]
    canary_file.write_text(yaml.safe_dump(document))
    entries = list(canary.check_canaries(project, "project", {"dev": False, "qa": True, "prod": True}))
    problems = refused(entries)
    assert [e.stack for e in problems] == ["qa"] and "no rollout webhook" in problems[0].problem
    assert [e.stack for e in entries if e.ok] == ["prod"]


def test_a_load_test_that_bypasses_the_ingress_is_refused(rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / "deploy" / "overlays" / "prod" / "canary.yaml",
        "ingress-nginx-controller.ingress-nginx/",
        "credit-scoring-canary/",
    )
    problems = refused(list(canary.check_canaries(project, "project", {"prod": True})))
    assert problems and "bypasses the ingress" in problems[0].problem


def test_a_condition_without_succeeded_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / "azure-pipelines.yml",
        "condition: and(succeeded(), eq(dependencies.Build_and_Test",
        "condition: and(eq(dependencies.Build_and_Test",
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if e.stage == "Data_Validation"]
    assert problems and "replaces succeeded()" in problems[0].problem


def test_retraining_queued_on_failure_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / ".azure-pipelines" / "drift.yml",
        "condition: and(succeeded(), eq(variables['drift.outcome'], 'drift'))",
        "condition: failed()",
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if "queue-retrain" in e.step]
    assert problems and "can run after a failure" in problems[0].problem


def test_failure_notifications_send_telemetry_with_the_environments_grant(runs, rendered) -> None:
    entries = walk_rendered(runs, rendered["aks"])
    sent = [e for e in entries if e.operation == "Microsoft.Insights/Telemetry/Write"]
    # One notification stage per environment in the main and retraining pipelines, one in the drift pipeline.
    assert {(e.pipeline, e.stage) for e in sent} == {
        *(
            (f"project {pipeline}", f"Notify_{env}")
            for pipeline in ("azure-pipelines.yml", ".azure-pipelines/retrain.yml")
            for env in ENVIRONMENTS
        ),
        ("project .azure-pipelines/drift.yml", "Notify_prod"),
        # The drift check itself sends its PSI values and outcome, on success.
        ("project .azure-pipelines/drift.yml", "Drift_Check"),
    }
    assert all(e.ok and e.granted_by.role == "Monitoring Metrics Publisher" for e in sent)
    notified = [e for e in sent if e.stage.startswith("Notify_")]
    assert all(e.stack == e.stage.removeprefix("Notify_") for e in notified)


def test_a_failure_step_that_is_not_a_declared_notifier_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(project / "Makefile", "#@ notifies\n", "")
    problems = [
        e for e in _refusals(walk_rendered(runs, project), "notify-failure") if e.stage == "Notify_dev"
    ]
    assert problems and all("can run after a failure" in e.problem for e in problems)


def test_a_notifier_may_write_nothing_but_telemetry_after_a_failure(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / "Makefile",
        "#@ data Microsoft.Insights/Telemetry/Write on app-insights $(APP_INSIGHTS)\n",
        "#@ data Microsoft.Insights/Telemetry/Write on app-insights $(APP_INSIGHTS)\n"
        "#@ data Microsoft.Insights/Metrics/Write on app-insights $(APP_INSIGHTS)\n",
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if e.stage == "Notify_qa"]
    assert [e.operation for e in problems] == ["Microsoft.Insights/Metrics/Write only after success"] * 2


def test_a_job_that_runs_after_a_failure_counts_as_its_steps(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / ".azure-pipelines" / "drift.yml",
        "      - job: Drift_Check\n",
        "      - job: Drift_Check\n        condition: failed()\n",
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if "queue-retrain" in e.resource]
    assert problems and "can run after a failure" in problems[0].problem


def test_a_notification_watching_a_stage_the_pipeline_lacks_is_refused(
    runs, rendered, tmp_path: Path
) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / ".azure-pipelines" / "drift.yml",
        "dependsOn: [Drift_Check]",
        "dependsOn: [Drift_Check, Smoke]",
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if e.stage == "Notify_prod"]
    assert [(e.resource, e.problem) for e in problems] == [("stage Smoke", "no such stage")]


def test_a_notification_naming_a_stage_it_does_not_depend_on_is_refused(
    runs, rendered, tmp_path: Path
) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(
        project / ".azure-pipelines" / "drift.yml", "failed('Drift_Check')", "failed('Drift_Check', 'Train')"
    )
    problems = [e for e in refused(walk_rendered(runs, project)) if e.stage == "Notify_prod"]
    assert [e.resource for e in problems] == ["stage Train"]
    assert "not in its dependsOn" in problems[0].problem


def test_a_target_without_declarations_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    edit(project / "Makefile", '# Needs "Queue builds"', "# Needs")
    edit(project / "Makefile", "#@ tool az\n#@ devops queue on pipeline $(RETRAIN_PIPELINE_ID)\n", "")
    problems = [e for e in refused(walk_rendered(runs, project)) if "queue-retrain" in e.resource]
    assert problems and "declares no `#@` operations" in problems[0].problem


def _platform_walk(runs, root=None) -> list:
    walk = Walk(Platform.from_runs(runs))
    if root is None:
        walk_platform_pipelines(walk, runs)
    else:
        walk_platform_pipelines(walk, runs, root)
    return walk.entries


def test_committed_platform_pipelines_pass(runs) -> None:
    assert refused(_platform_walk(runs)) == []


def test_a_pull_request_preview_with_the_deploy_connection_is_refused(runs, tmp_path: Path) -> None:
    root = platform_copy(tmp_path / "platform")
    steps = root / "pipelines" / "templates" / "pulumi-steps.yml"
    connection = "platform-${{ coalesce(parameters.identity, parameters.stack) }}"
    edit(steps, f"{connection}-preview", connection)
    problems = [e for e in refused(_platform_walk(runs, root)) if e.pipeline == "pipelines/pr.yml"]
    assert any("never a deploy connection" in e.problem for e in problems)
    assert any("not authorised for endpoint" in e.problem for e in problems)


def test_azure_devops_signed_in_with_the_build_service_token_is_refused(runs, tmp_path: Path) -> None:
    root = platform_copy(tmp_path / "platform")
    steps = root / "pipelines" / "templates" / "pulumi-steps.yml"
    edit(steps, '      ARM_USE_OIDC: "true"\n', "      AZDO_PERSONAL_ACCESS_TOKEN: $(System.AccessToken)\n")
    problems = [e for e in refused(_platform_walk(runs, root)) if "sign in to Azure DevOps" in e.operation]
    assert problems and "build service" in problems[0].problem


def test_a_variable_group_created_before_its_role_assignment_is_refused(runs) -> None:
    dev = runs["dev"]
    (secrets_role,) = [r.urn for r in dev.of_type(ROLE_ASSIGNMENT) if r.name == "pipeline-secrets-user"]
    broken = mutate(
        runs,
        "dev",
        lambda r: True,
        lambda r: without_dependencies(r, {secrets_role}) if r.type.endswith(":VariableGroup") else r,
    )
    walk = Walk(Platform.from_runs(broken))
    check_creation_order(walk, broken)
    problems = refused(walk.entries)
    assert [e.stack for e in problems] == ["dev"]
    assert "getSecret" in problems[0].operation and "created without waiting" in problems[0].problem


def test_a_branch_control_check_without_branch_policies_is_refused(runs) -> None:
    broken = mutate(runs, "bootstrap", lambda r: "branchPolicy" not in r.type)
    problems = [e for e in refused(_platform_walk(broken)) if e.operation == "pass CheckBranchControl"]
    assert problems and all("has no branch policy" in e.problem for e in problems)
    # The in-cluster stacks deploy through their environment's platform-<environment>.
    assert {e.resource for e in problems} == {platform_environment(stack) for stack in IDENTITY_STACKS}


def test_an_unregistered_resource_provider_is_refused(runs) -> None:
    def drop_flux(resource):
        if resource.type != "command:local:Command":
            return resource
        triggers = [t for t in resource.inputs["triggers"] if t != "Microsoft.KubernetesConfiguration"]
        return resource.__class__(
            **{**resource.__dict__, "inputs": {**resource.inputs, "triggers": triggers}}
        )

    broken = mutate(runs, "bootstrap", lambda r: True, drop_flux)
    walk = Walk(Platform.from_runs(broken))
    check_providers(walk, broken)
    problems = refused(walk.entries)
    assert {e.stack for e in problems} == {"dev", "qa", "prod"}
    assert all(e.operation == "register Microsoft.KubernetesConfiguration" for e in problems)
