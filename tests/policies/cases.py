"""Compliant wire inputs for every resource kind the pack checks, shaped like the program's."""

from typing import Any, Final

from infra import managed_devops_pools, roles
from infra.policies import azure
from infra.policies.devops import VARIABLE_GROUP
from tests.policies.support import TAGS

SERVICE_ENDPOINT_AZURERM: Final = "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM"
SERVICE_ENDPOINT_GENERIC: Final = "azuredevops:index/serviceEndpointGeneric:ServiceEndpointGeneric"
RESOURCE_GROUP: Final = "azure-native:resources:ResourceGroup"
CONTRIBUTOR: Final = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER: Final = f"/providers/Microsoft.Authorization/roleDefinitions/{roles.guid(roles.OWNER)}"
RBAC_ADMINISTRATOR: Final = (
    f"/providers/Microsoft.Authorization/roleDefinitions/{roles.guid(roles.RBAC_ADMINISTRATOR)}"
)
USER_ACCESS_ADMINISTRATOR: Final = (
    f"/providers/Microsoft.Authorization/roleDefinitions/{roles.guid('User Access Administrator')}"
)
GPU_POOL: Final = {
    "name": "gpu",
    "vmSize": "Standard_NC4as_T4_v3",
    "mode": "User",
    "enableAutoScaling": True,
    "minCount": 0.0,
    "maxCount": 2.0,
    "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"],
}

# case name -> (resource type, wire inputs that pass every policy)
COMPLIANT: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "resource-group": (RESOURCE_GROUP, {"location": "westeurope", "tags": TAGS}),
    "key-vault": (
        azure.KEY_VAULT,
        {
            "tags": TAGS,
            "properties": {
                "tenantId": "t",
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
                "enablePurgeProtection": True,
                "enableSoftDelete": True,
            },
        },
    ),
    "registry": (
        azure.REGISTRY,
        {"tags": TAGS, "sku": {"name": "Standard"}, "adminUserEnabled": False, "anonymousPullEnabled": False},
    ),
    "storage": (
        azure.STORAGE_ACCOUNT,
        {
            "tags": TAGS,
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"},
            "allowBlobPublicAccess": False,
            "minimumTlsVersion": "TLS1_2",
            "enableHttpsTrafficOnly": True,
            "allowSharedKeyAccess": False,
        },
    ),
    "cluster": (
        azure.MANAGED_CLUSTER,
        {
            "tags": TAGS,
            "oidcIssuerProfile": {"enabled": True},
            "securityProfile": {"workloadIdentity": {"enabled": True}},
            "disableLocalAccounts": True,
            "aadProfile": {"managed": True, "enableAzureRBAC": True},
            "agentPoolProfiles": [
                {"name": "system", "vmSize": "Standard_D4ds_v5", "mode": "System", "count": 2.0},
                GPU_POOL,
            ],
        },
    ),
    "gpu-pool": (azure.AGENT_POOL, {"tags": TAGS, **GPU_POOL}),
    "cpu-pool": (
        azure.AGENT_POOL,
        {"tags": TAGS, "vmSize": "Standard_D4ds_v5", "mode": "User", "minCount": 1.0},
    ),
    "ml-workspace": (azure.ML_WORKSPACE, {"tags": TAGS, "identity": {"type": "SystemAssigned"}}),
    "ml-compute": (
        azure.ML_COMPUTE,
        {
            "tags": TAGS,
            "properties": {
                "computeType": "AmlCompute",
                "properties": {
                    "vmSize": "Standard_NC4as_T4_v3",
                    "scaleSettings": {"minNodeCount": 0.0, "maxNodeCount": 2.0},
                },
            },
        },
    ),
    "managed-pool": (
        managed_devops_pools.POOL,
        {
            "tags": TAGS,
            "maximumConcurrency": 2.0,
            "agentProfile": {"kind": "Stateless"},
            "fabricProfile": {
                "kind": "Vmss",
                "sku": {"name": "Standard_D2ads_v5"},
                "images": [{"wellKnownImageName": "ubuntu-24.04/latest"}],
            },
            "organizationProfile": {
                "kind": "AzureDevOps",
                "organizations": [
                    {"url": "https://dev.azure.com/contoso", "projects": ["ml-platform"], "openAccess": False}
                ],
            },
        },
    ),
    "role-assignment": (
        azure.ROLE_ASSIGNMENT,
        {
            "scope": "/subscriptions/00000000-0000-0000-0000-0000000000d1/resourceGroups/rg-mlops-dev",
            "roleDefinitionId": f"/subscriptions/00000000-0000-0000-0000-0000000000d1{CONTRIBUTOR}",
            "principalId": "p",
            "principalType": "ServicePrincipal",
        },
    ),
    # The bootstrap's delegation: a deploy identity may assign only the roles its condition lists.
    "subscription-role-assignment": (
        azure.ROLE_ASSIGNMENT,
        {
            "scope": "/subscriptions/00000000-0000-0000-0000-0000000000d1",
            "roleDefinitionId": f"/subscriptions/00000000-0000-0000-0000-0000000000d1{RBAC_ADMINISTRATOR}",
            "principalId": "p",
            "principalType": "ServicePrincipal",
            "condition": "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'}))))",
            "conditionVersion": "2.0",
        },
    ),
    "service-connection": (
        SERVICE_ENDPOINT_AZURERM,
        {
            "projectId": "p",
            "serviceEndpointName": "sc-mlops-dev",
            "serviceEndpointAuthenticationScheme": "WorkloadIdentityFederation",
            "credentials": {"serviceprincipalid": "00000000-0000-0000-0000-0000000000c1"},
            "azurermSpnTenantid": "t",
            "azurermSubscriptionId": "s",
            "azurermSubscriptionName": "n",
        },
    ),
    "generic-connection": (
        SERVICE_ENDPOINT_GENERIC,
        {
            "projectId": "p",
            "serviceEndpointName": "docs",
            "serverUrl": "https://docs.contoso.com",
            "username": "u",
        },
    ),
    "linked-variable-group": (
        VARIABLE_GROUP,
        {
            "projectId": "p",
            "name": "vg-mlops-dev",
            "keyVault": {"name": "kv-mlops-dev", "serviceEndpointId": "se"},
            # Linked: the variables name vault secrets, so a secret-sounding name is expected here.
            "variables": [{"name": "acr-password"}, {"name": "resourceGroup"}],
        },
    ),
    "plain-variable-group": (
        VARIABLE_GROUP,
        {
            "projectId": "p",
            "name": "vg-settings",
            "variables": [
                {"name": "location", "value": "westeurope"},
                {"name": "keyVaultName", "value": "kv-mlops-dev"},
                {"name": "subscriptionId", "value": "00000000-0000-0000-0000-0000000000d1"},
                {"name": "resourceGroupId", "value": "/subscriptions/0000/resourceGroups/rg-mlops-dev"},
            ],
        },
    ),
}

# (policy, case, dotted path, weakened value or ... to remove it, phrase of the rule in the message)
WEAKENED: Final[list[tuple[str, str, str, Any, str]]] = [
    ("key-vault-rbac-purge-protection", "key-vault", "properties.enableRbacAuthorization", False, "RBAC"),
    (
        "key-vault-rbac-purge-protection",
        "key-vault",
        "properties.enablePurgeProtection",
        False,
        "purge protection",
    ),
    (
        "key-vault-rbac-purge-protection",
        "key-vault",
        "properties.enablePurgeProtection",
        ...,
        "purge protection",
    ),
    ("key-vault-rbac-purge-protection", "key-vault", "properties.enableSoftDelete", False, "soft delete"),
    ("acr-no-admin-no-anonymous-pull", "registry", "adminUserEnabled", True, "admin user"),
    ("acr-no-admin-no-anonymous-pull", "registry", "anonymousPullEnabled", True, "anonymous pull"),
    ("storage-private-tls12-https", "storage", "allowBlobPublicAccess", True, "public blob access"),
    ("storage-private-tls12-https", "storage", "minimumTlsVersion", "TLS1_0", "TLS 1.2"),
    ("storage-private-tls12-https", "storage", "enableHttpsTrafficOnly", False, "HTTPS only"),
    ("storage-no-shared-key", "storage", "allowSharedKeyAccess", True, "shared-key access must be off"),
    # Unset is Azure's default, which allows shared keys.
    ("storage-no-shared-key", "storage", "allowSharedKeyAccess", ..., "allowSharedKeyAccess is not set"),
    ("aks-entra-workload-identity", "cluster", "oidcIssuerProfile.enabled", False, "OIDC issuer"),
    (
        "aks-entra-workload-identity",
        "cluster",
        "securityProfile.workloadIdentity.enabled",
        False,
        "workload identity",
    ),
    ("aks-entra-workload-identity", "cluster", "disableLocalAccounts", False, "local accounts"),
    ("aks-entra-workload-identity", "cluster", "aadProfile.managed", ..., "Entra ID"),
    ("aks-entra-workload-identity", "cluster", "aadProfile.enableAzureRBAC", False, "Azure RBAC"),
    ("aks-gpu-pool-scale-from-zero", "cluster", "agentPoolProfiles.1.minCount", 1.0, "agent pool 'gpu'"),
    ("aks-gpu-pool-scale-from-zero", "gpu-pool", "minCount", 1.0, "scale to 0 nodes"),
    ("aks-gpu-pool-scale-from-zero", "gpu-pool", "enableAutoScaling", False, "must autoscale"),
    ("aks-gpu-pool-scale-from-zero", "gpu-pool", "nodeTaints", [], "NoSchedule taint"),
    (
        "aks-gpu-pool-scale-from-zero",
        "gpu-pool",
        "nodeTaints",
        ["sku=gpu:PreferNoSchedule"],
        "NoSchedule taint",
    ),
    ("aks-gpu-pool-scale-from-zero", "gpu-pool", "mode", "System", "belong in User pools"),
    ("ml-workspace-managed-identity", "ml-workspace", "identity", ..., "managed identity"),
    ("ml-workspace-managed-identity", "ml-workspace", "identity.type", "None", "managed identity"),
    (
        "ml-compute-scale-to-zero",
        "ml-compute",
        "properties.properties.scaleSettings.minNodeCount",
        1.0,
        "0 nodes",
    ),
    ("managed-devops-pool-scale-from-zero", "managed-pool", "maximumConcurrency", 21.0, "at most 20 agents"),
    ("managed-devops-pool-scale-from-zero", "managed-pool", "maximumConcurrency", ..., "at most 20 agents"),
    ("managed-devops-pool-scale-from-zero", "managed-pool", "agentProfile.kind", "Stateful", "stateless"),
    (
        "managed-devops-pool-scale-from-zero",
        "managed-pool",
        "agentProfile.resourcePredictionsProfile",
        {"kind": "Automatic"},
        "no standby agents",
    ),
    (
        "managed-devops-pool-scale-from-zero",
        "managed-pool",
        "organizationProfile.organizations.0.openAccess",
        True,
        "open to every project",
    ),
    (
        "role-assignment-resource-group-not-owner",
        "subscription-role-assignment",
        "roleDefinitionId",
        USER_ACCESS_ADMINISTRATOR,
        "on a whole subscription only",
    ),
    (
        "role-assignment-resource-group-not-owner",
        "subscription-role-assignment",
        "condition",
        ...,
        "needs a condition",
    ),
    (
        "role-assignment-resource-group-not-owner",
        "role-assignment",
        "scope",
        "/providers/Microsoft.Management/managementGroups/mg",
        "resource group or narrower",
    ),
    (
        "role-assignment-resource-group-not-owner",
        "role-assignment",
        "roleDefinitionId",
        OWNER,
        "not be Owner",
    ),
    ("required-tags", "resource-group", "tags.owner", ..., "missing or empty: owner"),
    ("required-tags", "key-vault", "tags", ..., "environment, project, owner, cost-center"),
    ("required-tags", "ml-compute", "tags.cost-center", "", "missing or empty: cost-center"),
    (
        "service-connection-workload-identity",
        "service-connection",
        "credentials.serviceprincipalkey",
        "s3cr3t",
        "credentials.serviceprincipalkey is set",
    ),
    (
        "service-connection-workload-identity",
        "service-connection",
        "serviceEndpointAuthenticationScheme",
        "ServicePrincipal",
        "workload identity federation",
    ),
    (
        "service-connection-workload-identity",
        "service-connection",
        "serviceEndpointAuthenticationScheme",
        ...,
        "workload identity federation",
    ),
    ("service-connection-workload-identity", "generic-connection", "password", "hunter2", "password is set"),
    (
        "variable-group-no-plain-secrets",
        "linked-variable-group",
        "variables.0",
        {"name": "acr-password", "isSecret": True, "secretValue": "hunter2"},
        "holds a secret value",
    ),
    (
        "variable-group-no-plain-secrets",
        "plain-variable-group",
        "variables.0",
        {"name": "acrAdminPassword", "value": "hunter2"},
        "looks like a plain-text secret",
    ),
    (
        "variable-group-no-plain-secrets",
        "plain-variable-group",
        "variables.0",
        {"name": "storage", "value": "DefaultEndpointsProtocol=https;AccountName=sa;AccountKey=abc=="},
        "looks like a plain-text secret",
    ),
    (
        "variable-group-no-plain-secrets",
        "plain-variable-group",
        "variables.0",
        {"name": "deployKey", "isSecret": True, "value": "v"},
        "without a Key Vault link",
    ),
]
