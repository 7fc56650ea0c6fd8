"""Exposure read from a run's inputs: what a private endpoint, a private cluster and a public IP mean."""

import pytest

from infra.managed_devops_pools import POOL
from infra.policies.azure import KEY_VAULT, MANAGED_CLUSTER
from infra.policies.devops import VARIABLE_GROUP
from infra.private_link import PRIVATE_ENDPOINT
from infra.tools.exposure import Exposure, exposure, exposures, unreachable_from_azure_devops
from infra.tools.mock_run import DeclaredResource, StackRun, run_stack


def declared(type_: str, name: str, inputs: dict, dependencies: tuple[str, ...] = ()) -> DeclaredResource:
    return DeclaredResource(type_, name, f"urn:{name}", None, True, inputs, dependencies)


def test_a_vault_is_private_only_with_public_access_off_and_an_endpoint() -> None:
    vault = declared(KEY_VAULT, "vault", {"properties": {"publicNetworkAccess": "Disabled"}})
    endpoint = declared(
        PRIVATE_ENDPOINT, "pe", {"privateLinkServiceConnections": [{"groupIds": ["vault"]}]}, (vault.urn,)
    )
    run = StackRun("qa", (vault, endpoint), {})
    assert exposure(run, vault) == Exposure(False, ("vault",), "no public endpoint; private endpoint: vault")
    assert exposure(run, endpoint) == Exposure(
        False, ("vault",), "private endpoint in the VNet to vault (vault)"
    )
    unset = declared(KEY_VAULT, "vault", {"properties": {}})
    # Unset is Azure's default: a public endpoint.
    assert exposure(StackRun("qa", (unset,), {}), unset) == Exposure(True, (), "public (Entra ID)")


@pytest.mark.parametrize(
    ("profile", "public", "summary"),
    [
        ({"enablePrivateCluster": True}, False, "private API server (VNet only)"),
        ({"authorizedIPRanges": ["203.0.113.0/24"]}, True, "public API server limited to 203.0.113.0/24"),
        ({}, True, "public API server (Entra ID)"),
    ],
)
def test_cluster_api_server_exposure(profile: dict, public: bool, summary: str) -> None:
    cluster = declared(MANAGED_CLUSTER, "aks", {"apiServerAccessProfile": profile})
    found = exposure(StackRun("qa", (cluster,), {}), cluster)
    assert found is not None and (found.public, found.summary) == (public, summary)


@pytest.mark.parametrize(
    ("fabric", "summary"),
    [
        (
            {"networkProfile": {"subnetId": "/subscriptions/s/x/vnet/subnets/agents"}},
            "agents in subnet agents",
        ),
        ({}, "agents on the service's own network, outside the VNet"),
    ],
)
def test_managed_pool_agents_take_no_inbound_traffic(fabric: dict, summary: str) -> None:
    pool = declared(POOL, "agents", {"fabricProfile": fabric})
    found = exposure(StackRun("dev", (pool,), {}), pool)
    assert found is not None and not found.public and found.summary.startswith(summary)


def test_committed_isolated_stack_has_no_public_data_endpoint() -> None:
    run = run_stack("prod")
    public = sorted(
        r.type for r in run.resources if (e := exposures(run).get(r.urn)) is not None and e.public
    )
    assert public == [
        "azure-native:applicationinsights:Component",
        "azure-native:network:PublicIPAddress",
        "azure-native:operationalinsights:Workspace",
    ]


def test_resources_without_an_endpoint_have_no_exposure() -> None:
    group = declared("azure-native:resources:ResourceGroup", "rg", {})
    assert exposure(StackRun("dev", (group,), {}), group) is None


def linked_group(vault_name: str) -> DeclaredResource:
    return declared(VARIABLE_GROUP, "variables", {"name": "vg", "keyVault": {"name": vault_name}})


def test_a_group_linked_to_a_private_vault_is_unreachable_for_azure_devops() -> None:
    vault = declared(
        KEY_VAULT, "vault", {"vaultName": "kv1", "properties": {"publicNetworkAccess": "Disabled"}}
    )
    [problem] = unreachable_from_azure_devops(StackRun("qa", (vault, linked_group("kv1")), {}))
    assert problem.startswith("VariableGroup `variables` links Key Vault `kv1`, which has no public endpoint")


def test_a_group_linked_to_a_public_vault_is_fine() -> None:
    vault = declared(
        KEY_VAULT, "vault", {"vaultName": "kv1", "properties": {"publicNetworkAccess": "Enabled"}}
    )
    assert unreachable_from_azure_devops(StackRun("dev", (vault, linked_group("kv1")), {})) == []
    private = declared(
        KEY_VAULT, "vault", {"vaultName": "kv2", "properties": {"publicNetworkAccess": "Disabled"}}
    )
    assert unreachable_from_azure_devops(StackRun("qa", (private, linked_group("kv1")), {})) == []
