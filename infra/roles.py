"""Azure's built-in roles: the definitions Azure publishes (vendored in `vendor/azure/`, see its README) and
the ones the platform assigns, by name. Role GUIDs are the same in every tenant; they are read from Azure's
own definitions, never typed here, so a wrong GUID cannot reach a deployment."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from infra import kube_rbac

ROLES_FILE: Final = Path(__file__).resolve().parents[1] / "vendor" / "azure" / "built-in-roles.json"

ACR_PULL: Final = "AcrPull"
# `az acr import` needs it on the target and on the source registry (container-registry-import-images.md).
ACR_IMPORTER: Final = "Container Registry Data Importer and Data Reader"
# `az acr build` is an ACR Tasks run: AcrPush does not allow it, this role does.
ACR_TASKS_CONTRIBUTOR: Final = "Container Registry Tasks Contributor"
AKS_CLUSTER_USER: Final = "Azure Kubernetes Service Cluster User Role"
AZURE_ML_DATA_SCIENTIST: Final = "AzureML Data Scientist"
CONTRIBUTOR: Final = "Contributor"
KEY_VAULT_CRYPTO_USER: Final = "Key Vault Crypto User"
KEY_VAULT_SECRETS_USER: Final = "Key Vault Secrets User"
# Federated credentials on one identity and nothing else: an environment stack federates the Flux identity the
# bootstrap stack owns with its cluster's issuer.
FEDERATED_CREDENTIAL_CONTRIBUTOR: Final = "Managed Identity Federated Identity Credential Contributor"
MONITORING_METRICS_PUBLISHER: Final = "Monitoring Metrics Publisher"
# The AKS control plane's identity joins its nodes and internal load balancers to a subnet of our VNet.
NETWORK_CONTRIBUTOR: Final = "Network Contributor"
READER: Final = "Reader"
RBAC_ADMINISTRATOR: Final = "Role Based Access Control Administrator"
STORAGE_BLOB_DATA_CONTRIBUTOR: Final = "Storage Blob Data Contributor"
STORAGE_BLOB_DATA_READER: Final = "Storage Blob Data Reader"
# Never assigned: the guardrails forbid it.
OWNER: Final = "Owner"

# Every role the environment stacks assign (to their pipeline identity, the kubelet, the workload
# identities): the bootstrap stack lets each environment's deploy identity assign these and no others.
ASSIGNED_BY_ENVIRONMENTS: Final = (
    ACR_PULL,
    ACR_IMPORTER,
    ACR_TASKS_CONTRIBUTOR,
    AKS_CLUSTER_USER,
    AZURE_ML_DATA_SCIENTIST,
    KEY_VAULT_SECRETS_USER,
    MONITORING_METRICS_PUBLISHER,
    NETWORK_CONTRIBUTOR,
    READER,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
)

# A custom role: giving a resource a user-assigned identity (the release gives the project's Azure ML endpoint
# its serving identity). Azure checks userAssignedIdentities/assign/action on the identity ("does not have
# permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked
# scope(s)", Azure/aad-pod-identity#443). The built-in Managed Identity Operator writes it as
# `userAssignedIdentities/*/assign/action`, which by the matching rule the preflight applies
# (vendor/azure/README.md: `*` matches a run of characters, the slashes on both sides stay) does not name
# this operation; this role names it exactly, and nothing more.
SERVING_IDENTITY_ASSIGN_ACTIONS: Final = (
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
)

# A custom role: what Managed DevOps Pools' first-party service principal (DevOpsInfrastructure) does on the
# VNet of a pool's subnet. The documentation asks for Reader and Network Contributor "Or ... the following
# permission[s] ... [in] a custom role" (azure-devops-docs managed-devops-pools/configure-networking.md):
# those five, and the VNet's own read that its access check expects of Reader (the Azure Verified Module's
# private-networking example assigns Reader beside such a role, Azure/terraform-azurerm-avm-res-
# devopsinfrastructure-pool). Network Contributor would also let it rewrite the VNet and every subnet.
MANAGED_DEVOPS_POOLS_NETWORK_ACTIONS: Final = (
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/*/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
    "Microsoft.Network/virtualNetworks/subnets/serviceAssociationLinks/validate/action",
    "Microsoft.Network/virtualNetworks/subnets/serviceAssociationLinks/write",
    "Microsoft.Network/virtualNetworks/subnets/serviceAssociationLinks/delete",
)

# A custom role: what `pulumi preview` does with the secrets provider's key (Key Vault data actions).
STATE_DECRYPT_DATA_ACTIONS: Final = (
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/decrypt/action",
)

# Another custom role: what the project pipelines do with kubectl in their own namespace (make wait-rollout,
# integration-aks), which no built-in role covers without write access to most of the namespace: the AKS RBAC
# roles read no custom resources (Flagger canaries), and port-forwarding is authorised as pods/write. AKS maps
# a request to `Microsoft.ContainerService/managedClusters/<group>/<resource>/<verb>` (Azure/AKS docs, "Use
# Azure RBAC for Kubernetes authorization"; kubeguard/guard authz/providers/azure/rbac).
PIPELINE_KUBE_ROLE_DATA_ACTIONS: Final = (
    "Microsoft.ContainerService/managedClusters/apps/deployments/read",
    "Microsoft.ContainerService/managedClusters/apps/replicasets/read",
    "Microsoft.ContainerService/managedClusters/flagger.app/canaries/read",
    "Microsoft.ContainerService/managedClusters/services/read",
    "Microsoft.ContainerService/managedClusters/pods/read",
    "Microsoft.ContainerService/managedClusters/pods/write",
)


@dataclass(frozen=True)
class KubeRole:
    """A custom role the bootstrap stack defines for what an environment stack manages in its AKS cluster; the
    environment stack assigns it, where those objects live, to its own deploy identity and the read-only twin
    to its preview identity. No built-in role fits: only Cluster Admin may create namespaces (RBAC Admin
    excludes namespaces/write), and none of them reads or writes Flux's custom resources."""

    key: str
    name: str
    description: str
    data_actions: tuple[str, ...]

    def read_only(self) -> KubeRole:
        """What `pulumi preview` (and its refresh) needs where this role applies: reading the same objects.
        pulumi-kubernetes 4.1+ falls back to a client-side preview when the server refuses the dry run
        (Kubernetes authorizes a dry run as the write itself; pulumi-kubernetes#2419, #2522)."""
        return KubeRole(
            f"{self.key}-read",
            f"{self.name} (read)",
            f"Reads what this role's twin manages: {self.description[0].lower()}{self.description[1:]}",
            tuple(action for action in self.data_actions if action.endswith(f"/{kube_rbac.READ}")),
        )


# Namespaces are cluster-scoped: this one is assigned on the cluster, and holds nothing else.
KUBE_NAMESPACES: Final = KubeRole(
    "namespaces",
    "platform namespaces",
    "Manages the onboarded projects' namespaces in the environment's AKS cluster",
    kube_rbac.data_actions((kube_rbac.NAMESPACE,)),
)
# Assigned on flux-system: the platform's Flux source and Kustomizations, and the ConfigMap of stack values.
KUBE_FLUX: Final = KubeRole(
    "flux",
    "platform Flux objects",
    "Manages the platform's Flux source, Kustomizations and cluster-values in flux-system",
    kube_rbac.data_actions((kube_rbac.CONFIG_MAP, kube_rbac.GIT_REPOSITORY, kube_rbac.KUSTOMIZATION)),
)
# Assigned on each project namespace: its Flux source and Kustomization, and the account they apply as.
KUBE_TENANT: Final = KubeRole(
    "tenant",
    "platform project GitOps",
    "Manages a project's Flux source, Kustomization and the namespace-admin account it applies as",
    (
        *kube_rbac.data_actions(
            (
                kube_rbac.SERVICE_ACCOUNT,
                kube_rbac.ROLE_BINDING,
                kube_rbac.GIT_REPOSITORY,
                kube_rbac.KUSTOMIZATION,
            )
        ),
        kube_rbac.BIND_CLUSTER_ROLES,
    ),
)
KUBE_WRITERS: Final = (KUBE_NAMESPACES, KUBE_FLUX, KUBE_TENANT)
KUBE_ROLES: Final = (*KUBE_WRITERS, *(role.read_only() for role in KUBE_WRITERS))


@dataclass(frozen=True)
class Role:
    name: str
    id: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]
    # ABAC conditions narrow such a role; its merged lists overstate what it allows.
    conditional: bool


class RoleDefinitions:
    """The built-in roles, by GUID and by name."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self._by_id = {role.id.lower(): role for role in roles}
        self._by_name = {role.name: role for role in self._by_id.values()}

    @classmethod
    @cache
    def load(cls, path: Path = ROLES_FILE) -> RoleDefinitions:
        document = json.loads(path.read_text())
        return cls(
            Role(
                name=name,
                id=entry["id"],
                actions=tuple(entry["actions"]),
                not_actions=tuple(entry["notActions"]),
                data_actions=tuple(entry["dataActions"]),
                not_data_actions=tuple(entry["notDataActions"]),
                conditional="conditions" in entry,
            )
            for name, entry in document["roles"].items()
        )

    def extended(self, roles: Iterable[Role]) -> RoleDefinitions:
        """These roles and more (custom roles a stack defines)."""
        return RoleDefinitions([*self._by_id.values(), *roles])

    def by_name(self, name: str) -> Role:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{name!r} is not an Azure built-in role") from None

    def by_definition_id(self, definition_id: str) -> Role:
        """The role of a role definition resource id (`.../roleDefinitions/<guid>`) or a bare GUID."""
        guid = definition_id.rstrip("/").rpartition("/")[2].lower()
        try:
            return self._by_id[guid]
        except KeyError:
            raise KeyError(f"{definition_id} is not an Azure built-in role definition") from None


def guid(name: str) -> str:
    return RoleDefinitions.load().by_name(name).id


def definition_id_of(subscription_id: str, role_guid: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def definition_id(subscription_id: str, name: str) -> str:
    return definition_id_of(subscription_id, guid(name))
