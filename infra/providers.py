"""Azure resource providers the platform's stacks use, which a fresh subscription must register first.

A subscription comes with a few namespaces registered (Microsoft.Authorization, Microsoft.Resources,
Microsoft.Consumption, ...); every other one answers MissingSubscriptionRegistration until registered
(learn.microsoft.com/azure/azure-resource-manager/management/azure-services-resource-providers). Pulumi's
azure-native provider does not register them (pulumi/pulumi-azure-native#3479). The bootstrap stack registers
these in every environment's subscription; the preflight checks that every resource type a stack declares is
in this list or registered by default.
"""

from typing import Final

REGISTERED_BY_DEFAULT: Final = frozenset(
    {"Microsoft.Authorization", "Microsoft.Resources", "Microsoft.Consumption", "Microsoft.Features"}
)

REQUIRED: Final = (
    "Microsoft.Compute",
    "Microsoft.ContainerRegistry",
    "Microsoft.ContainerService",
    # Managed DevOps Pools and the Dev Center project of each pool (managed-devops-pools/prerequisites.md).
    "Microsoft.DevCenter",
    "Microsoft.DevOpsInfrastructure",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.KubernetesConfiguration",
    "Microsoft.MachineLearningServices",
    "Microsoft.ManagedIdentity",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.Security",
    "Microsoft.Storage",
)
