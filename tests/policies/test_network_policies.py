"""The isolation policies against the stack's `networkIsolation` setting: a whole private stack passes,
each missing piece is named on the resource it leaves exposed."""

from collections.abc import Sequence

import pytest
from pulumi_policy import PolicyResource

from infra.managed_devops_pools import POOL, SUBNET_DELEGATION
from infra.policies.azure import KEY_VAULT, MANAGED_CLUSTER, ML_WORKSPACE, REGISTRY, STORAGE_ACCOUNT
from infra.policies.network import ISOLATION_KEY
from infra.private_link import (
    PRIVATE_DNS_ZONE_GROUP,
    PRIVATE_ENDPOINT,
    PRIVATE_LINK_GROUPS,
    PRIVATE_ZONE,
    VIRTUAL_NETWORK,
    VIRTUAL_NETWORK_LINK,
)
from tests.policies.support import policy, stack_resource, stack_violations

PUBLIC = "public-network-access-off"
ENDPOINTS = "private-endpoints-present"
RG = "/subscriptions/s/resourceGroups/rg/providers"


def targets(access: str = "Disabled", sku: str = "Premium") -> dict[str, PolicyResource]:
    return {
        KEY_VAULT: stack_resource(
            KEY_VAULT, "vault", {"vaultName": "kv1", "properties": {"publicNetworkAccess": access}}
        ),
        REGISTRY: stack_resource(
            REGISTRY, "acr", {"registryName": "cr1", "sku": {"name": sku}, "publicNetworkAccess": access}
        ),
        STORAGE_ACCOUNT: stack_resource(
            STORAGE_ACCOUNT, "storage", {"accountName": "st1", "publicNetworkAccess": access}
        ),
        ML_WORKSPACE: stack_resource(
            ML_WORKSPACE, "workspace", {"workspaceName": "mlw", "publicNetworkAccess": access}
        ),
    }


def private_links(target: PolicyResource, name: str, skip_zone: str = "") -> list[PolicyResource]:
    """Endpoints, zone groups, zones and links that make `target` reachable privately."""
    found: list[PolicyResource] = []
    for group in PRIVATE_LINK_GROUPS[target.resource_type]:
        endpoint = stack_resource(
            PRIVATE_ENDPOINT,
            f"pe-{name}-{group.group_id}",
            {
                "privateLinkServiceConnections": [
                    {"privateLinkServiceId": f"{RG}/X/y/{name}", "groupIds": [group.group_id]}
                ]
            },
            [target],
        )
        zones = [
            stack_resource(PRIVATE_ZONE, f"{name}-{zone}", {"privateZoneName": zone})
            for zone in group.zones
            if zone != skip_zone
        ]
        links = [stack_resource(VIRTUAL_NETWORK_LINK, f"{z.name}-link", {}, [z]) for z in zones]
        zone_group = stack_resource(PRIVATE_DNS_ZONE_GROUP, f"{endpoint.name}-dns", {}, [endpoint, *zones])
        found += [endpoint, zone_group, *zones, *links]
    return found


NAMES = {KEY_VAULT: "kv1", REGISTRY: "cr1", STORAGE_ACCOUNT: "st1", ML_WORKSPACE: "mlw"}


def private_stack(skip: str = "", skip_zone: str = "", sku: str = "Premium") -> list[PolicyResource]:
    resources: list[PolicyResource] = []
    for resource_type, target in targets(sku=sku).items():
        resources.append(target)
        if resource_type != skip:
            resources += private_links(target, NAMES[resource_type], skip_zone)
    cluster = stack_resource(
        MANAGED_CLUSTER, "aks", {"apiServerAccessProfile": {"enablePrivateCluster": True}}
    )
    return [*resources, cluster]


def check(
    name: str, isolated: str | None, resources: Sequence[PolicyResource]
) -> list[tuple[str, str | None]]:
    return stack_violations(policy(name), resources, {} if isolated is None else {ISOLATION_KEY: isolated})


@pytest.mark.parametrize("name", [PUBLIC, ENDPOINTS])
def test_a_private_stack_passes(name: str) -> None:
    assert check(name, "true", private_stack()) == []


@pytest.mark.parametrize("name", [PUBLIC, ENDPOINTS])
def test_a_stack_without_isolation_may_be_public(name: str) -> None:
    resources = [
        *targets(access="Enabled", sku="Standard").values(),
        stack_resource(MANAGED_CLUSTER, "aks", {}),
    ]
    assert check(name, "false", resources) == []


def test_each_public_endpoint_of_an_isolated_stack_is_named() -> None:
    exposed = [*targets(access="Enabled").values(), stack_resource(MANAGED_CLUSTER, "aks", {})]
    found = check(PUBLIC, "true", exposed)
    assert [urn for _, urn in found] == [r.urn for r in exposed]
    vault_message, *_, cluster_message = (message for message, _ in found)
    assert vault_message == (
        "keyvault:Vault 'vault': an isolated stack takes no public traffic "
        "(properties.publicNetworkAccess is 'Enabled', must be 'Disabled')"
    )
    assert "containerservice:ManagedCluster 'aks'" in cluster_message and "not set" in cluster_message


def test_an_unset_isolation_setting_is_not_proven() -> None:
    [(message, urn)] = check(PUBLIC, None, private_stack())
    assert urn is None and f"config {ISOLATION_KEY} is not set" in message


def test_a_target_without_its_endpoints_is_named_per_sub_resource() -> None:
    found = check(ENDPOINTS, "true", private_stack(skip=STORAGE_ACCOUNT))
    assert [message for message, _ in found] == [
        "storage:StorageAccount 'storage': an isolated stack reaches it privately: "
        "no private endpoint for its 'blob' sub-resource",
        "storage:StorageAccount 'storage': an isolated stack reaches it privately: "
        "no private endpoint for its 'file' sub-resource",
    ]


def test_an_endpoint_whose_name_stays_public_is_named() -> None:
    [(message, _)] = check(ENDPOINTS, "true", private_stack(skip_zone="privatelink.notebooks.azure.net"))
    assert message.startswith("machinelearningservices:Workspace 'workspace'")
    assert "'amlworkspace' endpoint's name does not resolve privately" in message
    assert "privatelink.notebooks.azure.net" in message


def test_a_zone_no_vnet_resolves_does_not_count() -> None:
    resources = [
        r for r in private_stack() if not (r.resource_type == VIRTUAL_NETWORK_LINK and "kv1" in r.name)
    ]
    [(message, _)] = check(ENDPOINTS, "true", resources)
    assert "keyvault:Vault 'vault'" in message and "privatelink.vaultcore.azure.net" in message


def test_a_registry_below_premium_takes_no_endpoint_even_without_isolation() -> None:
    [(message, urn)] = check(ENDPOINTS, "false", private_stack(sku="Standard"))
    assert message == (
        "containerregistry:Registry 'acr': Azure takes private endpoints only on Premium registries "
        "(sku.name is 'Standard')"
    )
    assert urn == next(r.urn for r in private_stack() if r.resource_type == REGISTRY)


def test_endpoint_attributed_through_property_dependencies() -> None:
    # In a first preview ids are unknown: the engine's property dependency says which resource is the target.
    vault = targets()[KEY_VAULT]
    links = private_links(vault, "kv1")
    endpoint = links[0]
    unknown = stack_resource(
        PRIVATE_ENDPOINT,
        endpoint.name,
        {"privateLinkServiceConnections": [{"privateLinkServiceId": None, "groupIds": ["vault"]}]},
    )
    unknown.property_dependencies["privateLinkServiceConnections"] = [vault]
    rest = [
        stack_resource(
            r.resource_type, r.name, r.props, [unknown if d is endpoint else d for d in r.dependencies]
        )
        for r in links[1:]
    ]
    assert check(ENDPOINTS, "true", [vault, unknown, *rest]) == []


AGENTS = "managed-devops-pool-in-vnet"
VNET_ID = f"{RG}/Microsoft.Network/virtualNetworks/vnet-mlops-qa"


def agents_stack(delegated: bool = True, injected: bool = True) -> list[PolicyResource]:
    subnet = {"name": "agents", "addressPrefix": "10.60.0.0/24"}
    if delegated:
        subnet["delegations"] = [{"name": "pools", "serviceName": SUBNET_DELEGATION}]
    vnet = stack_resource(
        VIRTUAL_NETWORK, "vnet", {"virtualNetworkName": "vnet-mlops-qa", "subnets": [subnet]}
    )
    fabric = {"networkProfile": {"subnetId": f"{VNET_ID}/subnets/agents"}} if injected else {}
    return [vnet, stack_resource(POOL, "agents-pool", {"fabricProfile": fabric}, [vnet])]


def test_an_isolated_stacks_agents_sit_in_a_delegated_subnet_of_its_vnet() -> None:
    assert check(AGENTS, "true", agents_stack()) == []
    [(message, urn)] = check(AGENTS, "true", agents_stack(injected=False))
    assert urn == agents_stack()[1].urn
    assert message == (
        "devopsinfrastructure:Pool 'agents-pool': an isolated stack's agents sit in its VNet: its agents run "
        "outside the VNet (fabricProfile.networkProfile is not set)"
    )
    [(message, _)] = check(AGENTS, "true", agents_stack(delegated=False))
    assert "its subnet 'agents' is not delegated to Microsoft.DevOpsInfrastructure/pools" in message


def test_agents_outside_the_vnet_are_fine_without_isolation() -> None:
    assert check(AGENTS, "false", agents_stack(injected=False)) == []


def test_a_pool_whose_subnet_id_is_not_known_yet_is_judged_by_its_dependency() -> None:
    vnet, _ = agents_stack()
    unknown = stack_resource(POOL, "agents-pool", {"fabricProfile": {"networkProfile": {"subnetId": None}}})
    unknown.property_dependencies["fabricProfile"] = [vnet]
    assert check(AGENTS, "true", [vnet, unknown]) == []
    undelegated, _ = agents_stack(delegated=False)
    assert check(AGENTS, "true", [undelegated, unknown]) != []
