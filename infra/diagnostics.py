"""Which resource logs each resource type sends to the environment's Log Analytics workspace, and why the
other types the program declares send none. The diagnostic settings component and the
`diagnostic-settings` policy read this table; a test holds every declared type to one of the two lists.

Category groups follow Azure's built-in policy "Resource logs should be enabled for Audit on supported
resources" (187242f4-89c6-4c43-9a4e-188c0efacc5f): a setting counts when a log entry with category group
`audit` or `allLogs` is enabled. Types and categories: learn.microsoft.com/azure/azure-monitor/reference/
logs-index (a type absent there emits no resource logs, only platform metrics, which Azure Monitor keeps
93 days without any setting).
"""

from dataclasses import dataclass
from typing import Final

from infra.managed_devops_pools import DEV_CENTER, DEV_CENTER_PROJECT, POOL
from infra.policies.azure import (
    AGENT_POOL,
    KEY_VAULT,
    MANAGED_CLUSTER,
    ML_COMPUTE,
    ML_WORKSPACE,
    REGISTRY,
    ROLE_ASSIGNMENT,
    STORAGE_ACCOUNT,
)
from infra.private_link import (
    PRIVATE_DNS_ZONE_GROUP,
    PRIVATE_ENDPOINT,
    PRIVATE_ZONE,
    VIRTUAL_NETWORK,
    VIRTUAL_NETWORK_LINK,
)

DIAGNOSTIC_SETTING: Final = "azure-native:monitor:DiagnosticSetting"
LOG_ANALYTICS: Final = "azure-native:operationalinsights:Workspace"
NETWORK_SECURITY_GROUP: Final = "azure-native:network:NetworkSecurityGroup"
PUBLIC_IP: Final = "azure-native:network:PublicIPAddress"
AUDIT: Final = "audit"
ALL_LOGS: Final = "allLogs"
# A setting whose logs include one of these groups, enabled, is an audit trail (the built-in policy's rule).
AUDIT_GROUPS: Final = frozenset({AUDIT, ALL_LOGS})


@dataclass(frozen=True)
class LogSelection:
    """One diagnostic setting: on the resource itself ("") or a sub-resource such as blobServices/default."""

    sub_resource: str
    category_groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


# Resource type -> the settings it gets: allLogs, or audit (or named categories) where everything would
# be expensive and add little, such as every kube-apiserver read.
DIAGNOSED: Final[dict[str, tuple[LogSelection, ...]]] = {
    KEY_VAULT: (LogSelection("", category_groups=(AUDIT,)),),
    REGISTRY: (LogSelection("", category_groups=(ALL_LOGS,)),),
    ML_WORKSPACE: (LogSelection("", category_groups=(ALL_LOGS,)),),
    # Storage logs are emitted per service, not by the account; read, write and delete alike, as CIS
    # Microsoft Azure Foundations asks of the blob service ("Storage logging ... for Read, Write, Delete").
    STORAGE_ACCOUNT: (
        LogSelection("blobServices/default", category_groups=(ALL_LOGS,)),
        LogSelection("fileServices/default", category_groups=(ALL_LOGS,)),
    ),
    # kube-audit-admin records create, update, delete, patch and post but not the prolific get and list of
    # kube-audit (Azure Architecture Center, AKS baseline: "diagnostic setting for AKS"); guard is Entra ID.
    MANAGED_CLUSTER: (LogSelection("", categories=("kube-audit-admin", "guard")),),
    LOG_ANALYTICS: (LogSelection("", category_groups=(AUDIT,)),),
    NETWORK_SECURITY_GROUP: (LogSelection("", category_groups=(ALL_LOGS,)),),
    PUBLIC_IP: (LogSelection("", category_groups=(ALL_LOGS,)),),
    VIRTUAL_NETWORK: (LogSelection("", category_groups=(ALL_LOGS,)),),
    # "Resource Provisioning Logs logs provisioning events for the agents in your pool" (azure-devops-docs
    # managed-devops-pools/diagnostics.md): which image and size each agent got, and why one failed to start.
    POOL: (LogSelection("", category_groups=(ALL_LOGS,)),),
}

# Every other azure-native type the program declares, and why it has no diagnostic setting.
NOT_DIAGNOSED: Final[dict[str, str]] = {
    "azure-native:resources:ResourceGroup": "no resource logs; changes are in the activity log",
    ROLE_ASSIGNMENT: "no resource logs; changes are in the activity log",
    "azure-native:authorization:RoleDefinition": "no resource logs; changes are in the activity log",
    "command:local:Command": "not an Azure resource: a command the administrator's CLI runs",
    "azure-native:keyvault:Secret": "reads and writes are in the vault's audit logs",
    "azure-native:applicationinsights:Component": "its telemetry already lands in the workspace",
    DEV_CENTER: "only the container Managed DevOps Pools requires; its pools send their own logs",
    DEV_CENTER_PROJECT: "only the container Managed DevOps Pools requires; its pools send their own logs",
    AGENT_POOL: "logged by its cluster",
    "azure-native:containerregistry:AgentPool": "task runs are logged by its registry",
    "azure-native:kubernetesconfiguration:Extension": "in-cluster: Container insights has its logs",
    "azure-native:kubernetesconfiguration:FluxConfiguration": "in-cluster: Container insights has its logs",
    ML_COMPUTE: "cluster and job events are in the workspace's logs",
    "azure-native:managedidentity:UserAssignedIdentity": "sign-ins are in Entra ID's logs",
    "azure-native:managedidentity:FederatedIdentityCredential": "sign-ins are in Entra ID's logs",
    "azure-native:network:NatGateway": "platform metrics only",
    PRIVATE_ENDPOINT: "platform metrics only",
    PRIVATE_DNS_ZONE_GROUP: "a sub-resource of its private endpoint",
    PRIVATE_ZONE: "platform metrics only",
    VIRTUAL_NETWORK_LINK: "a sub-resource of its zone",
    "azure-native:storage:BlobContainer": "logged by the account's blob service",
    DIAGNOSTIC_SETTING: "is itself the setting",
    "azure-native:monitor:ActionGroup": "no resource logs; notifications are in the activity log",
    "azure-native:consumption:Budget": "no resource logs",
    "azure-native:security:Pricing": "no resource logs; a subscription setting",
}
