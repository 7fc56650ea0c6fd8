"""The offline run itself: stacks run in forked workers declare exactly what they declare run one by one."""

import base64

import yaml
from pulumi.runtime.mocks import MockCallArgs

from infra.stacks import ALL, ENVIRONMENTS, SHARED
from infra.tools.mock_run import DeclaredResource, PlatformMocks, StackRun, run_stack, run_stacks


def by_urn(run: StackRun) -> dict[str, DeclaredResource]:
    return {resource.urn: resource for resource in run.resources}


def test_parallel_runs_equal_runs_one_by_one() -> None:
    parallel = run_stacks(ALL)
    assert list(parallel) == list(ALL)
    for stack in ALL:
        alone = run_stack(stack)
        assert by_urn(parallel[stack]) == by_urn(alone), f"stack {stack} differs when run in a worker"
        assert parallel[stack].outputs == alone.outputs


def test_environment_stacks_without_shared_run_in_the_order_asked() -> None:
    # `shared` is not asked for: its outputs still reach every environment's StackReference.
    stacks = list(reversed(ENVIRONMENTS))
    runs = run_stacks(stacks)
    assert list(runs) == stacks
    for stack in stacks:
        assert by_urn(runs[stack]) == by_urn(run_stack(stack))


def test_repeated_stacks_run_once() -> None:
    assert list(run_stacks(["qa", "qa", SHARED])) == ["qa", SHARED]


def test_the_user_credential_is_what_aks_answers_for_an_entra_cluster() -> None:
    mocks = PlatformMocks("dev", "sub", references={})
    answer, _ = mocks.call(
        MockCallArgs(
            "azure-native:containerservice:listManagedClusterUserCredentials",
            {"resourceGroupName": "rg-mlops-dev", "resourceName": "aks-mlops-dev"},
            "",
        )
    )
    (credential,) = answer["kubeconfigs"]
    config = yaml.safe_load(base64.b64decode(credential["value"]))
    (user,) = config["users"]
    # A device-code kubelogin user and no static credential: local accounts are off.
    assert user["user"]["exec"]["args"][-2:] == ["--login", "devicecode"]
    assert set(user["user"]) == {"exec"}
    assert config["clusters"][0]["cluster"]["server"].startswith("https://aks-mlops-dev")


def test_resources_through_an_explicit_provider_live_in_its_subscription() -> None:
    bootstrap_subscription = run_stack("bootstrap").outputs["flux_identities"]["dev"]["subscription_id"]
    run = run_stack("dev")
    (federation,) = [r for r in run.resources if r.name == "gitops-flux-federation"]
    assert federation.provider and federation.id.startswith(f"/subscriptions/{bootstrap_subscription}/")
    # Everything without one lives in the stack's own subscription.
    others = [r for r in run.of_type(federation.type) if not r.provider]
    assert others and all(
        r.id.startswith(f"/subscriptions/{run.outputs['subscription_id']}/") for r in others
    )
