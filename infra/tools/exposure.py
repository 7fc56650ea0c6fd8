"""Network exposure of each resource a stack declares, read from the inputs of an offline run.

For the plan's reviewers and for whoever checks that a pipeline step can reach what it touches: a
public endpoint is reachable from Microsoft-hosted agents and from the Azure DevOps service; a resource
without one only from inside the environment's VNet (its Managed DevOps Pool's agents) through a private
endpoint.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from infra.managed_devops_pools import POOL
from infra.policies.azure import KEY_VAULT, ML_COMPUTE
from infra.policies.devops import VARIABLE_GROUP
from infra.policies.props import at, items
from infra.private_link import (
    AUTHORIZED_IP_RANGES,
    DISABLED,
    PRIVATE_CLUSTER,
    PRIVATE_CLUSTER_TYPE,
    PRIVATE_ENDPOINT,
    PRIVATE_LINK_GROUPS,
    PUBLIC_NETWORK_ACCESS,
)
from infra.tools.mock_run import DeclaredResource, StackRun

PUBLIC_IP: Final = "azure-native:network:PublicIPAddress"
# Azure Monitor's ingestion and query endpoints stay public (Entra ID): Private Link for them is a scope of
# its own (AMPLS) that changes DNS for every Azure Monitor client in the VNet.
MONITOR_TYPES: Final = (
    "azure-native:operationalinsights:Workspace",
    "azure-native:applicationinsights:Component",
)


@dataclass(frozen=True)
class Exposure:
    # Reachable from the internet: hosted agents and the Azure DevOps service get there.
    public: bool
    # Sub-resources reachable through a private endpoint in the environment's VNet.
    private_endpoints: tuple[str, ...]
    summary: str


def _endpoint_groups(run: StackRun, target: DeclaredResource) -> tuple[str, ...]:
    groups = {
        group
        for endpoint in run.of_type(PRIVATE_ENDPOINT)
        if target.urn in endpoint.dependencies
        for connection in items(at(endpoint.inputs, "privateLinkServiceConnections"))
        for group in items(at(connection, "groupIds"))
    }
    return tuple(sorted(groups))


def _cluster(inputs: Mapping[str, Any]) -> Exposure:
    if at(inputs, PRIVATE_CLUSTER) is True:
        # AKS gives the API server a private endpoint (group "management") in the nodes' VNet.
        return Exposure(False, ("management",), "private API server (VNet only)")
    ranges = items(at(inputs, AUTHORIZED_IP_RANGES))
    if ranges:
        return Exposure(True, (), f"public API server limited to {', '.join(map(str, ranges))}")
    return Exposure(True, (), "public API server (Entra ID)")


def _pool(inputs: Mapping[str, Any]) -> Exposure:
    """Managed DevOps Pools' agents take no inbound connection: they dial out to Azure DevOps, from the subnet
    they are injected into or from the service's own network (configure-networking.md)."""
    subnet = at(inputs, "fabricProfile.networkProfile.subnetId")
    if isinstance(subnet, str):
        return Exposure(False, (), f"agents in subnet {subnet.rpartition('/')[2]}, outbound only")
    return Exposure(False, (), "agents on the service's own network, outside the VNet, outbound only")


def exposure(run: StackRun, resource: DeclaredResource) -> Exposure | None:
    """How `resource` is reached over the network; None for what has no endpoint of its own."""
    inputs = resource.inputs
    if resource.type in PUBLIC_NETWORK_ACCESS:
        value = at(inputs, PUBLIC_NETWORK_ACCESS[resource.type])
        public = value != DISABLED
        groups = _endpoint_groups(run, resource)
        parts = ["public (Entra ID)" if public else "no public endpoint"]
        if groups:
            parts.append(f"private endpoint: {', '.join(groups)}")
        return Exposure(public, groups, "; ".join(parts))
    if resource.type == PRIVATE_CLUSTER_TYPE:
        return _cluster(inputs)
    if resource.type == POOL:
        return _pool(inputs)
    if resource.type == ML_COMPUTE:
        public_ip = at(inputs, "properties.properties.enableNodePublicIp") is not False
        return Exposure(
            public_ip, (), "nodes with public IPs" if public_ip else "no public IP (managed network)"
        )
    if resource.type == PUBLIC_IP:
        return Exposure(True, (), "public IP address")
    if resource.type in MONITOR_TYPES:
        return Exposure(True, (), "public (Entra ID; no Azure Monitor Private Link Scope)")
    if resource.type == PRIVATE_ENDPOINT:
        groups = sorted(
            {g for c in items(at(inputs, "privateLinkServiceConnections")) for g in items(at(c, "groupIds"))}
        )
        targets = sorted(
            other.name
            for other in run.resources
            if other.urn in resource.dependencies and other.type in PRIVATE_LINK_GROUPS
        )
        return Exposure(
            False,
            tuple(groups),
            f"private endpoint in the VNet to {', '.join(targets)} ({', '.join(groups)})",
        )
    return None


def exposures(run: StackRun) -> dict[str, Exposure]:
    """Exposure by URN, for every custom resource that has an endpoint."""
    found = {resource.urn: exposure(run, resource) for resource in run.resources if resource.custom}
    return {urn: value for urn, value in found.items() if value is not None}


def unreachable_from_azure_devops(run: StackRun) -> list[str]:
    """What the Azure DevOps service itself must reach but cannot, because it has no public endpoint.

    Saving a variable group linked to a Key Vault makes the service list the vault's secrets through the
    service connection (the provider's `searchAzureKVSecrets`, an ExecuteServiceEndpointRequest of data
    source AzureKeyVaultSecrets, microsoft/terraform-provider-azuredevops), from Azure DevOps' own
    public addresses: a vault with public network access off fails it.
    """
    private_vaults = {
        at(vault.inputs, "vaultName"): vault
        for vault in run.of_type(KEY_VAULT)
        if at(vault.inputs, PUBLIC_NETWORK_ACCESS[KEY_VAULT]) == DISABLED
    }
    return [
        f"VariableGroup `{group.name}` links Key Vault `{at(group.inputs, 'keyVault.name')}`, which has no "
        "public endpoint: Azure DevOps lists a linked vault's secrets from its own addresses, so saving the "
        "group fails; fetch the secrets on the environment's Managed DevOps Pool instead (AzureKeyVault@2, "
        "runAsPreJob)"
        for group in run.of_type(VARIABLE_GROUP)
        if at(group.inputs, "keyVault.name") in private_vaults
    ]
