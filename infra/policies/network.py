"""Stack policies for network isolation: no public endpoint, a private endpoint with its DNS for every
sub-resource, and build agents inside the VNet, where the stack's `networkIsolation` setting asks for it (read
from the stack's config, as the `protected` gates are: the engine hands it to the pack, and the offline check
does the same).

Faithful to Azure where the mocks are not: a private endpoint to a registry below Premium is refused
(learn.microsoft.com/azure/container-registry/container-registry-private-link, "Premium service tier").
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.config import PRIVATE_LINK_ACR_SKU, PROJECT
from infra.managed_devops_pools import POOL, SUBNET_DELEGATION
from infra.policies.azure import REGISTRY
from infra.policies.props import at, items
from infra.policies.rules import shown
from infra.policies.stack_resources import depends_on, name_of, of_type, refers_to, setting, stack_flag
from infra.private_link import (
    DISABLED,
    PRIVATE_CLUSTER,
    PRIVATE_CLUSTER_TYPE,
    PRIVATE_DNS_ZONE_GROUP,
    PRIVATE_ENDPOINT,
    PRIVATE_LINK_GROUPS,
    PRIVATE_ZONE,
    PUBLIC_NETWORK_ACCESS,
    VIRTUAL_NETWORK,
    VIRTUAL_NETWORK_LINK,
)

# Declared in Pulumi.yaml; infra/config.py reads it for the program.
ISOLATION_KEY: Final = f"{PROJECT}:networkIsolation"
CONNECTIONS: Final = "privateLinkServiceConnections"
NETWORK_PROFILE: Final = "fabricProfile.networkProfile"


def _isolation(resources: Sequence[PolicyResource], report: ReportViolation) -> bool:
    """Whether the stack asks for isolation; unset with resources it would govern is itself a violation."""
    isolated = stack_flag(ISOLATION_KEY)
    if isolated is None and of_type(resources, *PUBLIC_NETWORK_ACCESS, PRIVATE_CLUSTER_TYPE, POOL):
        report(f"config {ISOLATION_KEY} is not set: cannot tell whether the stack must be private", None)
    return bool(isolated)


def _validate_public_access(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not _isolation(args.resources, report_violation):
        return
    for resource in of_type(args.resources, *PUBLIC_NETWORK_ACCESS):
        path = PUBLIC_NETWORK_ACCESS[resource.resource_type]
        value = setting(resource, path)
        if value != DISABLED:
            report_violation(
                f"{name_of(resource)}: an isolated stack takes no public traffic "
                f"({path} is {shown(value)}, must be {DISABLED!r})",
                resource.urn,
            )
    for cluster in of_type(args.resources, PRIVATE_CLUSTER_TYPE):
        value = setting(cluster, PRIVATE_CLUSTER)
        if value is not True:
            report_violation(
                f"{name_of(cluster)}: an isolated stack's API server is private "
                f"({PRIVATE_CLUSTER} is {shown(value)}, must be True)",
                cluster.urn,
            )


def _endpoint_groups(endpoint: PolicyResource, target: PolicyResource) -> set[str]:
    """The sub-resources `endpoint` connects to on `target`."""
    groups: set[str] = set()
    for connection in items(setting(endpoint, CONNECTIONS)):
        if refers_to(endpoint, CONNECTIONS, at(connection, "privateLinkServiceId"), target):
            groups.update(group for group in items(at(connection, "groupIds")) if isinstance(group, str))
    return groups


def _resolving_zones(endpoint: PolicyResource, resources: Sequence[PolicyResource]) -> set[str]:
    """Zones holding `endpoint`'s records (through a zone group) that a VNet resolves (through a link)."""
    linked = {
        zone.urn
        for zone in of_type(resources, PRIVATE_ZONE)
        if any(depends_on(link, zone) for link in of_type(resources, VIRTUAL_NETWORK_LINK))
    }
    return {
        str(setting(zone, "privateZoneName"))
        for group in of_type(resources, PRIVATE_DNS_ZONE_GROUP)
        if depends_on(group, endpoint)
        for zone in of_type(resources, PRIVATE_ZONE)
        if zone.urn in linked and depends_on(group, zone)
    }


def _missing_links(target: PolicyResource, resources: Sequence[PolicyResource]) -> Iterator[str]:
    endpoints = [e for e in of_type(resources, PRIVATE_ENDPOINT) if _endpoint_groups(e, target)]
    for group in PRIVATE_LINK_GROUPS[target.resource_type]:
        serving = [e for e in endpoints if group.group_id in _endpoint_groups(e, target)]
        if not serving:
            yield f"no private endpoint for its '{group.group_id}' sub-resource"
            continue
        zones = set().union(*(_resolving_zones(e, resources) for e in serving))
        unresolved = [zone for zone in group.zones if zone not in zones]
        if unresolved:
            yield (
                f"the '{group.group_id}' endpoint's name does not resolve privately: no record in a linked "
                f"private DNS zone {', '.join(unresolved)}"
            )


def _validate_private_endpoints(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for registry in of_type(args.resources, REGISTRY):
        sku = setting(registry, "sku.name")
        if sku != PRIVATE_LINK_ACR_SKU and any(
            _endpoint_groups(e, registry) for e in of_type(args.resources, PRIVATE_ENDPOINT)
        ):
            report_violation(
                f"{name_of(registry)}: Azure takes private endpoints only on {PRIVATE_LINK_ACR_SKU} "
                f"registries (sku.name is {shown(sku)})",
                registry.urn,
            )
    if not _isolation(args.resources, report_violation):
        return
    for target in of_type(args.resources, *PRIVATE_LINK_GROUPS):
        for missing in _missing_links(target, args.resources):
            report_violation(
                f"{name_of(target)}: an isolated stack reaches it privately: {missing}", target.urn
            )


def _delegated_subnet(pool: PolicyResource, resources: Sequence[PolicyResource]) -> str:
    """Why the pool's agents are not in a subnet of the stack delegated to Managed DevOps Pools; "" if they
    are. Agents outside the VNet reach none of its private endpoints, and the service injects them only into
    a subnet delegated to it (azure-devops-docs managed-devops-pools/configure-networking.md)."""
    profile = setting(pool, NETWORK_PROFILE)
    if not isinstance(profile, Mapping):
        return f"its agents run outside the VNet ({NETWORK_PROFILE} is not set)"
    subnet_id = at(profile, "subnetId")
    # In a first preview the subnet's id is not known yet: the property dependency names the VNet.
    known = isinstance(subnet_id, str)
    vnet_id, _, subnet_name = subnet_id.rpartition("/subnets/") if known else ("", "", "")
    for vnet in of_type(resources, VIRTUAL_NETWORK):
        if not refers_to(pool, "fabricProfile", vnet_id, vnet):
            continue
        delegated = [
            at(subnet, "name")
            for subnet in items(setting(vnet, "subnets"))
            if SUBNET_DELEGATION in {at(d, "serviceName") for d in items(at(subnet, "delegations"))}
        ]
        if (subnet_name in delegated) if known else bool(delegated):
            return ""
        return f"its subnet '{subnet_name}' is not delegated to {SUBNET_DELEGATION}"
    return f"its subnet is in no VNet of this stack ({NETWORK_PROFILE}.subnetId is {shown(subnet_id)})"


def _validate_agents(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not _isolation(args.resources, report_violation):
        return
    for pool in of_type(args.resources, POOL):
        problem = _delegated_subnet(pool, args.resources)
        if problem:
            report_violation(
                f"{name_of(pool)}: an isolated stack's agents sit in its VNet: {problem}", pool.urn
            )


PUBLIC_NETWORK_ACCESS_POLICY: Final = StackValidationPolicy(
    name="public-network-access-off",
    description=(
        "Where the stack asks for network isolation, Key Vault, ACR, storage and the Azure ML workspace take "
        "no public traffic and the AKS API server is private."
    ),
    validate=_validate_public_access,
    enforcement_level=EnforcementLevel.MANDATORY,
)

PRIVATE_ENDPOINTS_POLICY: Final = StackValidationPolicy(
    name="private-endpoints-present",
    description=(
        "Where the stack asks for network isolation, every sub-resource of Key Vault, ACR, storage and the "
        "Azure ML workspace has a private endpoint whose name resolves in a private DNS zone linked to a "
        "VNet; a registry with a private endpoint is Premium."
    ),
    validate=_validate_private_endpoints,
    enforcement_level=EnforcementLevel.MANDATORY,
)

AGENTS_IN_VNET_POLICY: Final = StackValidationPolicy(
    name="managed-devops-pool-in-vnet",
    description=(
        "Where the stack asks for network isolation, every Managed DevOps Pool injects its agents into a "
        "subnet of the stack's VNet delegated to Microsoft.DevOpsInfrastructure/pools."
    ),
    validate=_validate_agents,
    enforcement_level=EnforcementLevel.MANDATORY,
)
