"""The whole program under mocks with each committed stack file."""

from collections import Counter

import pytest

from infra import config, diagnostics, gitops, outputs
from infra.platform_pipelines import IN_CLUSTER
from infra.stacks import BOOTSTRAP, ENVIRONMENTS, EVERY, SHARED, cluster_stack
from infra.tools import stack_config
from infra.tools.mock_run import REPO_ROOT, StackRun, run_stacks

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
    assert set(shared.outputs) <= OUTPUT_KEYS
    assert set(shared.outputs[outputs.PIPELINES]["credit-scoring"]) == {"main", "retrain", "drift"}


# Every key a stack may export is a named constant of infra/outputs.py.
OUTPUT_KEYS = {value for name, value in vars(outputs).items() if name.isupper() and isinstance(value, str)}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_stack_exports_only_named_keys_and_no_secret(
    runs: dict[str, StackRun], environment: str
) -> None:
    exported = runs[environment].outputs
    assert set(exported) <= OUTPUT_KEYS, set(exported) - OUTPUT_KEYS
    assert exported[outputs.ENVIRONMENT] == environment
    assert exported[outputs.RESOURCE_GROUP] == f"rg-mlops-{environment}"
    project = exported[outputs.PROJECTS]["credit-scoring"]
    assert set(project) <= OUTPUT_KEYS
    # Every key is filled, but for the GPU pool of an environment that has none.
    assert all(value not in (None, "") for key, value in exported.items() if key != outputs.GPU_AGENT_POOL)
    # Only non-secret identifiers leave a stack. The Application Insights connection string is one ("Ikey
    # unique identifiers aren't security tokens or security keys", connection-strings.md) because ingestion
    # takes Entra ID tokens only; it leaves under its own key and nowhere else.
    others = {key: value for key, value in exported.items() if key != outputs.APP_INSIGHTS_CONNECTION_STRING}
    assert "InstrumentationKey" not in str(others)
    assert "InstrumentationKey=" in exported[outputs.APP_INSIGHTS_CONNECTION_STRING]
    [component] = runs[environment].of_type("azure-native:applicationinsights:Component")
    assert component.inputs["disableLocalAuth"] is True, "it may leave only while local auth is off"


def test_every_stack_exports_the_same_keys(runs: dict[str, StackRun]) -> None:
    keys = {tuple(runs[environment].outputs) for environment in ENVIRONMENTS}
    assert len(keys) == 1


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
        "azure-native:devcenter:DevCenter",
        "azure-native:devcenter:Project",
        "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM",
        "azuredevops:index/variableGroup:VariableGroup",
        "azuredevops:index/environment:Environment",
    ):
        assert counted[type_] == 1, type_
    assert counted["azure-native:machinelearningservices:Compute"] == 2
    # The environment's pool, and in dev (the first environment, where sanity training runs) a GPU pool.
    assert counted["azure-native:devopsinfrastructure:Pool"] == (2 if environment == "dev" else 1)


def test_protected_environments_have_exactly_one_approval_and_dev_none(runs: dict[str, StackRun]) -> None:
    approvals = {env: kinds(runs[env])[APPROVAL] for env in ENVIRONMENTS}
    branch_controls = {env: kinds(runs[env])[BRANCH_CONTROL] for env in ENVIRONMENTS}
    assert approvals == {"dev": 0, "qa": 1, "prod": 1}
    assert branch_controls == approvals


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_one_flux_source_per_project_plus_the_platform(runs: dict[str, StackRun], environment: str) -> None:
    sources = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["spec"]
        for r in runs[cluster_stack(environment)].of_type(GIT_REPOSITORY)
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


def test_environment_pipelines_are_those_of_the_shared_stack_and_the_platforms(
    runs: dict[str, StackRun],
) -> None:
    published = runs[SHARED].outputs[outputs.PIPELINES]["credit-scoring"]
    platform = runs[BOOTSTRAP].outputs[outputs.PLATFORM_PIPELINES]
    for environment in ENVIRONMENTS:
        authorizations = runs[environment].of_type(
            "azuredevops:index/pipelineAuthorization:PipelineAuthorization"
        )
        authorized = {int(a.inputs["pipelineId"]) for a in authorizations}
        assert authorized == set(published.values()) | {int(platform[key]) for key in IN_CLUSTER}
        # The platform's pipelines may use the environment's agent queue and nothing else of it.
        assert {
            a.inputs["type"]
            for a in authorizations
            if int(a.inputs["pipelineId"]) in map(int, platform.values())
        } == {"queue"}


def test_unknown_stack_is_refused() -> None:
    with pytest.raises(config.ConfigError, match="not one of bootstrap, shared, dev, qa, prod"):
        config.is_environment("staging")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_network_output_says_where_pipelines_reach_the_environment(
    runs: dict[str, StackRun], environment: str
) -> None:
    exported = runs[environment].outputs
    isolated = stack_config.load(environment, REPO_ROOT)[f"{config.PROJECT}:networkIsolation"] == "true"
    network = exported[outputs.NETWORK]
    assert network[outputs.NETWORK_ISOLATED] is isolated
    assert (network[outputs.NETWORK_ACR_BUILD_POOL] is not None) is isolated
    assert exported[outputs.ACTION_GROUP_ID].endswith(f"/ag-mlops-{environment}")


def test_committed_isolation_is_on_in_qa_and_prod_only(runs: dict[str, StackRun]) -> None:
    isolated = {env: runs[env].outputs[outputs.NETWORK][outputs.NETWORK_ISOLATED] for env in ENVIRONMENTS}
    assert isolated == {"dev": False, "qa": True, "prod": True}


def test_every_declared_azure_type_is_diagnosed_or_says_why_not(runs: dict[str, StackRun]) -> None:
    declared = {
        r.type
        for run in runs.values()
        for r in run.resources
        if r.custom and r.type.startswith("azure-native:")
    }
    undecided = declared - set(diagnostics.DIAGNOSED) - set(diagnostics.NOT_DIAGNOSED)
    assert not undecided, (
        f"add these to infra/diagnostics.py, DIAGNOSED or NOT_DIAGNOSED: {sorted(undecided)}"
    )


def test_one_stack_per_subscription_owns_its_defender_plans() -> None:
    owners: dict[str, list[str]] = {}
    for environment in ENVIRONMENTS:
        values = stack_config.load(environment, REPO_ROOT)
        if values[f"{config.PROJECT}:defenderPlans"] == "true":
            owners.setdefault(values["azure-native:subscriptionId"], []).append(environment)
    assert owners, "the committed stacks turn Defender on somewhere"
    shared = {subscription: stacks for subscription, stacks in owners.items() if len(stacks) > 1}
    assert not shared, f"two stacks would fight over one subscription's Defender plans: {shared}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_has_one_budget_and_one_action_group(
    runs: dict[str, StackRun], environment: str
) -> None:
    counted = kinds(runs[environment])
    assert counted["azure-native:consumption:Budget"] == 1
    assert counted["azure-native:monitor:ActionGroup"] == 1
