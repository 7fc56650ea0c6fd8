"""Policies over Azure resources (pulumi-azure-native v3 wire inputs)."""

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from infra import roles
from infra.config import AGENT_MAX_CONCURRENCY, GPU_VM_SIZE
from infra.managed_devops_pools import POOL
from infra.policies.props import at, items, number
from infra.policies.rules import require_flag, require_value, resource_policy, shown

KEY_VAULT: Final = "azure-native:keyvault:Vault"
REGISTRY: Final = "azure-native:containerregistry:Registry"
STORAGE_ACCOUNT: Final = "azure-native:storage:StorageAccount"
MANAGED_CLUSTER: Final = "azure-native:containerservice:ManagedCluster"
AGENT_POOL: Final = "azure-native:containerservice:AgentPool"
ML_WORKSPACE: Final = "azure-native:machinelearningservices:Workspace"
ML_COMPUTE: Final = "azure-native:machinelearningservices:Compute"
ROLE_ASSIGNMENT: Final = "azure-native:authorization:RoleAssignment"

# A resource group or anything below it; subscriptions, management groups and "/" are wider.
_RESOURCE_GROUP_SCOPE: Final = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+(/.+)?$", re.IGNORECASE)
_SUBSCRIPTION_SCOPE: Final = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)
# What a platform stack's own identities hold on a whole subscription (the bootstrap stack, README "Deploying
# for real"): `pulumi up` creates resource groups, so its deploy identity needs Contributor there, with the
# right to assign only the roles its condition lists; previews read. Nothing else is subscription-wide.
_SUBSCRIPTION_ROLES: Final = (roles.CONTRIBUTOR, roles.READER, roles.RBAC_ADMINISTRATOR)
_TLS_1_2_OR_LATER: Final = ("TLS1_2", "TLS1_3")


def _key_vault(props: Mapping[str, Any]) -> Iterator[str]:
    yield from require_flag(
        props, "properties.enableRbacAuthorization", True, "RBAC authorization must be on"
    )
    yield from require_flag(props, "properties.enablePurgeProtection", True, "purge protection must be on")
    yield from require_flag(props, "properties.enableSoftDelete", True, "soft delete must be on")


def _registry(props: Mapping[str, Any]) -> Iterator[str]:
    yield from require_flag(props, "adminUserEnabled", False, "the admin user must be off")
    yield from require_flag(props, "anonymousPullEnabled", False, "anonymous pull must be off")


def _storage(props: Mapping[str, Any]) -> Iterator[str]:
    yield from require_flag(props, "allowBlobPublicAccess", False, "public blob access must be off")
    yield from require_value(props, "minimumTlsVersion", _TLS_1_2_OR_LATER, "TLS 1.2 must be the minimum")
    yield from require_flag(props, "enableHttpsTrafficOnly", True, "HTTPS only must be on")


def _storage_shared_key(props: Mapping[str, Any]) -> Iterator[str]:
    # Unset means allowed (learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent).
    yield from require_flag(props, "allowSharedKeyAccess", False, "shared-key access must be off")


def _cluster_identity(props: Mapping[str, Any]) -> Iterator[str]:
    yield from require_flag(props, "oidcIssuerProfile.enabled", True, "the OIDC issuer must be on")
    yield from require_flag(
        props, "securityProfile.workloadIdentity.enabled", True, "workload identity must be on"
    )
    yield from require_flag(props, "disableLocalAccounts", True, "local accounts must be off")
    yield from require_flag(props, "aadProfile.managed", True, "Entra ID integration must be on")
    yield from require_flag(props, "aadProfile.enableAzureRBAC", True, "Azure RBAC for Kubernetes must be on")


def _gpu_pool(pool: Mapping[str, Any], where: str) -> Iterator[str]:
    """A GPU node costs money every idle hour: it runs only while a GPU pod asks for it."""
    size = at(pool, "vmSize")
    if not isinstance(size, str) or not GPU_VM_SIZE.match(size):
        return
    if at(pool, "mode") == "System":
        yield f"{where}GPU size {size} in a System pool; GPU sizes belong in User pools that scale from 0"
        return
    autoscale = at(pool, "enableAutoScaling")
    if autoscale is not True:
        yield f"{where}a GPU pool must autoscale (enableAutoScaling is {shown(autoscale)})"
    minimum = at(pool, "minCount")
    if number(minimum) != 0:
        yield f"{where}a GPU pool must scale to 0 nodes (minCount is {shown(minimum)}, must be 0)"
    taints = at(pool, "nodeTaints")
    if not any(isinstance(taint, str) and taint.endswith(":NoSchedule") for taint in items(taints)):
        yield f"{where}a GPU pool must carry a NoSchedule taint (nodeTaints is {shown(taints)})"


def _gpu_pools(props: Mapping[str, Any]) -> Iterator[str]:
    # A cluster declares its first pools inline; each is held to the same rule as a separate AgentPool.
    for pool in items(at(props, "agentPoolProfiles")):
        yield from _gpu_pool(pool, f"agent pool '{at(pool, 'name')}': ")
    yield from _gpu_pool(props, "")


def _ml_workspace(props: Mapping[str, Any]) -> Iterator[str]:
    identity = at(props, "identity.type")
    if not isinstance(identity, str) or "Assigned" not in identity:
        yield f"the workspace must have a managed identity (identity.type is {shown(identity)})"


def _ml_compute(props: Mapping[str, Any]) -> Iterator[str]:
    if at(props, "properties.computeType") != "AmlCompute":
        return
    minimum = at(props, "properties.properties.scaleSettings.minNodeCount")
    if number(minimum) != 0:
        yield (
            "a compute cluster must scale to 0 nodes when idle "
            f"(properties.properties.scaleSettings.minNodeCount is {shown(minimum)}, must be 0)"
        )


def _managed_pool(props: Mapping[str, Any]) -> Iterator[str]:
    """A pool's agents cost money only while they run: bounded, started per job, none on standby."""
    concurrency = number(at(props, "maximumConcurrency"))
    if concurrency is None or concurrency > AGENT_MAX_CONCURRENCY:
        yield (
            f"at most {AGENT_MAX_CONCURRENCY} agents at once "
            f"(maximumConcurrency is {shown(at(props, 'maximumConcurrency'))})"
        )
    # A stateful agent keeps what one job left (files, credentials) for the next: "Stateless pools ... are
    # recommended by security experts as a defense against supply chain attacks" (configure-scaling.md).
    yield from require_value(props, "agentProfile.kind", ("Stateless",), "agents must be stateless")
    # Standby agents run, and bill, while no job waits; without a predictions profile there are none
    # ("Omit the ResourcePredictionsProfile section to disable standby agents", configure-scaling.md).
    for path in ("agentProfile.resourcePredictionsProfile", "agentProfile.resourcePredictions"):
        if at(props, path) is not None:
            yield f"no standby agents: the pool scales from 0 ({path} is set)"
    for organization in items(at(props, "organizationProfile.organizations")):
        if at(organization, "openAccess") is True:
            yield (
                f"the pool is open to every project of {at(organization, 'url')}: list the projects that "
                "use it (openAccess is True)"
            )


def _subscription_wide(props: Mapping[str, Any]) -> Iterator[str]:
    role = str(at(props, "roleDefinitionId") or "").rstrip("/").lower()
    allowed = {roles.guid(name): name for name in _SUBSCRIPTION_ROLES}
    name = next((allowed[guid] for guid in allowed if role.endswith(guid)), None)
    if name is None:
        yield (
            "on a whole subscription only "
            + ", ".join(_SUBSCRIPTION_ROLES)
            + f" may be assigned; elsewhere the scope must be a resource group or narrower (role is {role!r})"
        )
    elif name == roles.RBAC_ADMINISTRATOR and not at(props, "condition"):
        yield f"{name} on a subscription needs a condition that limits the roles it may assign"


def _role_assignment(props: Mapping[str, Any]) -> Iterator[str]:
    scope = at(props, "scope")
    if isinstance(scope, str) and _SUBSCRIPTION_SCOPE.match(scope):
        yield from _subscription_wide(props)
    elif not isinstance(scope, str) or not _RESOURCE_GROUP_SCOPE.match(scope):
        yield f"the scope must be a resource group or narrower (scope is {shown(scope)})"
    role = at(props, "roleDefinitionId")
    if not isinstance(role, str):
        yield "the role must be known to be other than Owner (roleDefinitionId is not set)"
    elif role.rstrip("/").lower().endswith(roles.guid(roles.OWNER)):
        yield f"the role must not be Owner (roleDefinitionId is {role!r})"


AZURE_POLICIES: Final = (
    resource_policy(
        "key-vault-rbac-purge-protection",
        "Key Vaults use RBAC authorization, purge protection and soft delete.",
        {KEY_VAULT},
        _key_vault,
    ),
    resource_policy(
        "acr-no-admin-no-anonymous-pull",
        "Container registries have the admin user and anonymous pull off.",
        {REGISTRY},
        _registry,
    ),
    resource_policy(
        "storage-private-tls12-https",
        "Storage accounts allow no public blob access, need TLS 1.2 or later and HTTPS only.",
        {STORAGE_ACCOUNT},
        _storage,
    ),
    resource_policy(
        "storage-no-shared-key",
        "Storage accounts take Entra ID only: shared-key (account key and SAS) access is off.",
        {STORAGE_ACCOUNT},
        _storage_shared_key,
    ),
    resource_policy(
        "aks-entra-workload-identity",
        "AKS clusters: OIDC issuer and workload identity on, local accounts off, Entra ID with Azure RBAC.",
        {MANAGED_CLUSTER},
        _cluster_identity,
    ),
    resource_policy(
        "aks-gpu-pool-scale-from-zero",
        "Every AKS user pool with a GPU size autoscales from 0 nodes and carries a NoSchedule taint.",
        {MANAGED_CLUSTER, AGENT_POOL},
        _gpu_pools,
    ),
    resource_policy(
        "ml-workspace-managed-identity",
        "Azure ML workspaces have a managed identity.",
        {ML_WORKSPACE},
        _ml_workspace,
    ),
    resource_policy(
        "ml-compute-scale-to-zero",
        "Azure ML compute clusters scale to 0 nodes when idle.",
        {ML_COMPUTE},
        _ml_compute,
    ),
    resource_policy(
        "managed-devops-pool-scale-from-zero",
        f"Managed DevOps Pools: at most {AGENT_MAX_CONCURRENCY} agents, stateless, no standby agents, "
        "open to the listed projects only.",
        {POOL},
        _managed_pool,
    ),
    resource_policy(
        "role-assignment-resource-group-not-owner",
        "Role assignments are scoped to a resource group or narrower, and never grant Owner; on a whole "
        "subscription only Contributor, Reader and a conditioned Role Based Access Control Administrator.",
        {ROLE_ASSIGNMENT},
        _role_assignment,
    ),
)
