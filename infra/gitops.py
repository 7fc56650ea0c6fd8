"""Where Flux finds things: the contract between the AKS component and `gitops/`.

The environment stack creates one `microsoft.flux` FluxConfiguration for this repository. The extension
turns it into a GitRepository named FLUX_SOURCE and one Flux Kustomization per entry below, each named
`<FLUX_SOURCE>-<key>` in FLUX_NAMESPACE.
"""

from typing import Final

FLUX_NAMESPACE: Final = "flux-system"
FLUX_SOURCE: Final = "platform"

# ConfigMap in FLUX_NAMESPACE that each cluster entry point generates: the values (quota sizes, ...)
# that differ between clusters, substituted into infrastructure/ and every project namespace.
CLUSTER_VALUES: Final = "cluster-values"

# Kustomization key and path of the per-cluster entry point (infrastructure: namespaces' base, Flagger, ...).
CLUSTER_KUSTOMIZATION: Final = "cluster"


def cluster_path(environment: str) -> str:
    return f"./gitops/clusters/{environment}"


# One Kustomization per onboarded project renders this base with Flux post-build substitution,
# so the list of projects lives only in stack config.
PROJECT_NAMESPACE_PATH: Final = "./gitops/infrastructure/project-namespace"
PROJECT_NAMESPACE_VAR: Final = "project_namespace"
PROJECT_SLUG_VAR: Final = "project_slug"
PROJECT_ENVIRONMENT_VAR: Final = "environment"


def project_namespace_kustomization(slug: str) -> str:
    return f"ns-{slug}"


# Path inside an onboarded project's repository that its own FluxConfiguration reconciles.
def project_overlay_path(environment: str) -> str:
    return f"./deploy/overlays/{environment}"
