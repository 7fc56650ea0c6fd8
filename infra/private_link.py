"""Private Link facts: what an isolated environment reaches through private endpoints, and how each
resource type says whether it takes public traffic. The components, the policies and the plan's
exposure column read these tables; nothing else spells them.

Group ids and zones: learn.microsoft.com/azure/private-link/private-endpoint-dns ("Azure services DNS
zone configuration"). Azure ML needs both the blob and the file endpoint of its storage account
(learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet).
"""

from dataclasses import dataclass
from typing import Final

from infra.policies.azure import KEY_VAULT, MANAGED_CLUSTER, ML_WORKSPACE, REGISTRY, STORAGE_ACCOUNT

PRIVATE_ENDPOINT: Final = "azure-native:network:PrivateEndpoint"
PRIVATE_DNS_ZONE_GROUP: Final = "azure-native:network:PrivateDnsZoneGroup"
PRIVATE_ZONE: Final = "azure-native:privatedns:PrivateZone"
VIRTUAL_NETWORK_LINK: Final = "azure-native:privatedns:VirtualNetworkLink"
VIRTUAL_NETWORK: Final = "azure-native:network:VirtualNetwork"


@dataclass(frozen=True)
class PrivateLinkGroup:
    """A sub-resource that gets its own private endpoint, and the zones its names resolve in."""

    group_id: str
    zones: tuple[str, ...]


# Resource type -> the sub-resources an isolated environment reaches only privately.
PRIVATE_LINK_GROUPS: Final[dict[str, tuple[PrivateLinkGroup, ...]]] = {
    KEY_VAULT: (PrivateLinkGroup("vault", ("privatelink.vaultcore.azure.net",)),),
    # The zone also holds the registry's regional data endpoint (<name>.<region>.data.azurecr.io).
    REGISTRY: (PrivateLinkGroup("registry", ("privatelink.azurecr.io",)),),
    STORAGE_ACCOUNT: (
        PrivateLinkGroup("blob", ("privatelink.blob.core.windows.net",)),
        PrivateLinkGroup("file", ("privatelink.file.core.windows.net",)),
    ),
    ML_WORKSPACE: (
        PrivateLinkGroup("amlworkspace", ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net")),
    ),
}

# Resource type -> the wire input that switches its public endpoint (Enabled or Disabled).
PUBLIC_NETWORK_ACCESS: Final[dict[str, str]] = {
    KEY_VAULT: "properties.publicNetworkAccess",
    REGISTRY: "publicNetworkAccess",
    STORAGE_ACCOUNT: "publicNetworkAccess",
    ML_WORKSPACE: "publicNetworkAccess",
}
ENABLED: Final = "Enabled"
DISABLED: Final = "Disabled"

# An AKS API server is private when this input is true; its zone is managed by AKS ("system").
PRIVATE_CLUSTER: Final = "apiServerAccessProfile.enablePrivateCluster"
AUTHORIZED_IP_RANGES: Final = "apiServerAccessProfile.authorizedIPRanges"
PRIVATE_CLUSTER_TYPE: Final = MANAGED_CLUSTER


def zones() -> tuple[str, ...]:
    """Every private DNS zone an isolated environment holds, each once."""
    return tuple(
        sorted({zone for groups in PRIVATE_LINK_GROUPS.values() for group in groups for zone in group.zones})
    )
