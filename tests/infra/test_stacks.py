"""The whole program under mocks with each committed stack file."""

from collections import Counter

import pytest

from infra import config, gitops, outputs
from infra.stacks import BOOTSTRAP, ENVIRONMENTS, EVERY, SHARED
from infra.tools.mock_run import StackRun, run_stacks

GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
APPROVAL = "azuredevops:index/checkApproval:CheckApproval"
BRANCH_CONTROL = "azuredevops:index/checkBranchControl:CheckBranchControl"


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(EVERY)


def kinds(run: StackRun) -> Counter[str]:
    return Counter(r.type for r in run.resources if r.custom)


def test_shared_stack_declares_pipelines_and_policies_per_project(runs: dict[str, StackRun]) -> None:
    shared = runs[SHARED]
    counted = kinds(shared)
    assert counted["azuredevops:index/buildDefinition:BuildDefinition"] == 3
    assert counted["azuredevops:index/branchPolicyMinReviewers:BranchPolicyMinReviewers"] == 1
    assert counted["azuredevops:index/branchPolicyBuildValidation:BranchPolicyBuildValidation"] == 1
    assert not any(t.startswith("azure-native:") for t in counted)
    assert set(shared.outputs) == set(outputs.SHARED_KEYS)
    assert set(shared.outputs[outputs.PIPELINES]["credit-scoring"]) == {"main", "retrain", "drift"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_stack_exports_exactly_the_contract(runs: dict[str, StackRun], environment: str) -> None:
    exported = runs[environment].outputs
    assert tuple(exported) == outputs.ENVIRONMENT_KEYS
    assert exported[outputs.ENVIRONMENT] == environment
    assert exported[outputs.RESOURCE_GROUP] == f"rg-mlops-{environment}"
    project = exported[outputs.PROJECTS]["credit-scoring"]
    assert tuple(project) == outputs.PROJECT_KEYS
    assert all(value not in (None, "") for value in exported.values())


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_declares_one_of_each_core_resource(
    runs: dict[str, StackRun], environment: str
) -> None:
    counted = kinds(runs[environment])
    for type_ in (
        "azure-native:resources:ResourceGroup",
        "azure-native:keyvault:Vault",
        "azure-native:containerregistry:Registry",
        "azure-native:machinelearningservices:Workspace",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:compute:VirtualMachineScaleSet",
        "azuredevops:index/elasticPool:ElasticPool",
        "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM",
        "azuredevops:index/variableGroup:VariableGroup",
        "azuredevops:index/environment:Environment",
    ):
        assert counted[type_] == 1, type_
    assert counted["azure-native:machinelearningservices:Compute"] == 2


def test_protected_environments_have_exactly_one_approval_and_dev_none(runs: dict[str, StackRun]) -> None:
    approvals = {env: kinds(runs[env])[APPROVAL] for env in ENVIRONMENTS}
    branch_controls = {env: kinds(runs[env])[BRANCH_CONTROL] for env in ENVIRONMENTS}
    assert approvals == {"dev": 0, "qa": 1, "prod": 1}
    assert branch_controls == approvals


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_one_flux_source_per_project_plus_the_platform(runs: dict[str, StackRun], environment: str) -> None:
    sources = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["spec"]
        for r in runs[environment].of_type(GIT_REPOSITORY)
    }
    assert set(sources) == {(gitops.FLUX_NAMESPACE, gitops.FLUX_SOURCE), ("credit-scoring", "credit-scoring")}
    assert sources[("credit-scoring", "credit-scoring")]["ref"] == {"branch": f"deploy/{environment}"}
    assert all(spec["provider"] == gitops.GIT_PROVIDER for spec in sources.values())


def test_every_child_is_named_after_its_component(runs: dict[str, StackRun]) -> None:
    for run in runs.values():
        for resource in run.resources:
            component = run.component_of(resource)
            if component is not None and resource.custom:
                assert resource.name.startswith(component.name), (resource.name, component.name)


def test_environment_pipelines_are_those_of_the_shared_and_bootstrap_stacks(
    runs: dict[str, StackRun],
) -> None:
    published = runs[SHARED].outputs[outputs.PIPELINES]["credit-scoring"]
    platform_deploy = runs[BOOTSTRAP].outputs[outputs.PLATFORM_PIPELINES]["deploy"]
    for environment in ENVIRONMENTS:
        authorized = {
            int(a.inputs["pipelineId"])
            for a in runs[environment].of_type(
                "azuredevops:index/pipelineAuthorization:PipelineAuthorization"
            )
        }
        assert authorized == {*published.values(), platform_deploy}


def test_unknown_stack_is_refused() -> None:
    with pytest.raises(config.ConfigError, match="not one of bootstrap, shared, dev, qa, prod"):
        config.is_environment("staging")
