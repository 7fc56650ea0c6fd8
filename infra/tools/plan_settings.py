"""A declared resource's inputs as flat settings, and which of them a reviewer of a plan cares about.

Settings are dotted paths of the wire inputs; a list element that has a `name` is addressed by it
(agentPoolProfiles[gpu].vmSize), so inserting a pool does not renumber every other one in a diff.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Final

from infra.policies.devops import CREDENTIAL_INPUTS, looks_like_secret

# Settings a reviewer reads first, matched by the end of their path.
REVIEWED: Final = (
    # SKUs and sizes
    "sku.name",
    "sku.tier",
    "vmSize",
    "kind",
    "kubernetesVersion",
    "osDiskSizeGB",
    # counts
    "count",
    "capacity",
    "minCount",
    "maxCount",
    "minNodeCount",
    "maxNodeCount",
    "maximumConcurrency",
    "retentionInDays",
    "softDeleteRetentionInDays",
    # protection
    "enablePurgeProtection",
    "enableSoftDelete",
    "enableRbacAuthorization",
    "adminUserEnabled",
    "anonymousPullEnabled",
    "minimumTlsVersion",
    "enableHttpsTrafficOnly",
    "allowBlobPublicAccess",
    "allowSharedKeyAccess",
    "disableLocalAccounts",
    "enableAzureRBAC",
    "workloadIdentity.enabled",
    "oidcIssuerProfile.enabled",
    "identity.type",
    "agentProfile.kind",
    "resourcePredictionsProfile.kind",
    "wellKnownImageName",
    "openAccess",
    "permissionProfile.kind",
    "mode",
    "enableAutoScaling",
    "nodeTaints",
    "scope",
    "roleDefinitionId",
    "serviceEndpointAuthenticationScheme",
    "approvers",
    "minimumRequiredApprovers",
    "allowedBranches",
    "keyVault.name",
    # network exposure
    "publicNetworkAccess",
    "defaultAction",
    "enablePrivateCluster",
    "authorizedIPRanges",
    "enableNodePublicIp",
    "remoteLoginPortPublicAccess",
    "networkPlugin",
    "privateDNSZone",
    "vnetSubnetID",
    "subnetId",
    "serviceName",
    "addressPrefix",
    "addressPrefixes",
    "groupIds",
    "privateLinkServiceId",
    "privateZoneName",
    "registrationEnabled",
    "imageBuildCompute",
    # diagnostics and costs
    "categoryGroup",
    "category",
    "resourceUri",
    "amount",
    "timeGrain",
    "threshold",
    "thresholdType",
    "pricingTier",
    "subPlan",
)
MASK: Final = "(secret)"
# Inputs whose value is a credential though their name does not say so: a webhook URL carries its signature.
SECRET_INPUTS: Final = frozenset({"serviceUri"})


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves of the inputs by dotted path; a list of scalars stays one setting (["a", "b"])."""
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, child in value.items():
            flat.update(flatten(child, f"{path}.{key}" if path else str(key)))
        return flat
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and any(isinstance(v, Mapping) for v in value)
    ):
        flat = {}
        for index, child in enumerate(value):
            name = child.get("name") if isinstance(child, Mapping) else None
            flat.update(flatten(child, f"{path}[{name if isinstance(name, str) else index}]"))
        return flat
    return {path: list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value}


def _bare(path: str) -> str:
    """The path without list selectors: agentPoolProfiles[gpu].vmSize -> agentPoolProfiles.vmSize."""
    parts = [part.split("[", 1)[0] for part in path.split(".")]
    return ".".join(parts)


def is_reviewed(path: str) -> bool:
    bare = _bare(path)
    return any(bare == suffix or bare.endswith(f".{suffix}") for suffix in REVIEWED)


def shown(path: str, value: Any) -> str:
    """A setting's value for a Markdown cell; credentials and secret-looking values are masked."""
    key = _bare(path).rpartition(".")[2]
    if (
        key.lower() in CREDENTIAL_INPUTS
        or key in SECRET_INPUTS
        or key == "secretValue"
        or looks_like_secret(key, value)
    ):
        return MASK
    if value is None:
        return "(unknown)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    return str(value).replace("|", "\\|").replace("\n", " ")
