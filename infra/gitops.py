"""Where Flux finds things: the contract between the environment stack, its cluster and `gitops/`.

The `microsoft.flux` extension installs and upgrades Flux's controllers. The environment stack creates, with
pulumi-kubernetes, what Flux reads first (infra/components/cluster_gitops.py): the GitRepository FLUX_SOURCE
for this repository and one Kustomization per entry below in FLUX_NAMESPACE, and per onboarded project its
namespace, a GitRepository and a Kustomization there.
"""

from typing import Final

FLUX_NAMESPACE: Final = "flux-system"
FLUX_SOURCE: Final = "platform"
# Flux's `provider: azure` for Azure DevOps repositories: source-controller signs in to Azure DevOps with the
# workload identity of its own service account (source-controller v1.5+, docs/spec/v1/gitrepositories.md,
# "Provider"); the extension federates that account when `workloadIdentity.enable` is set.
GIT_PROVIDER: Final = "azure"
SOURCE_CONTROLLER_ACCOUNT: Final = "source-controller"
# Kustomizations in flux-system apply as the controller's own account: the extension enforces Flux's
# multi-tenancy lockdown (every Kustomization without an account impersonates `flux-applier` of its
# namespace), and the platform's layers are cluster-wide by design (Flux's multi-tenancy guide,
# flux2-multi-tenancy: the platform admin's Kustomizations keep `serviceAccountName: kustomize-controller`).
PLATFORM_APPLIER: Final = "kustomize-controller"
# A project's Kustomization applies as this account of its namespace, bound to the namespace's `admin` role.
PROJECT_APPLIER: Final = "flux-applier"
PROJECT_APPLIER_ROLE: Final = "admin"

# ConfigMap in FLUX_NAMESPACE of the values the stack knows (the environment's name, ...): Pulumi creates it,
# every Kustomization substitutes from it.
CLUSTER_VALUES: Final = "cluster-values"
# ConfigMap in FLUX_NAMESPACE that each cluster entry point generates: the sizes that differ between clusters
# (quotas, replicas, retention), decisions reviewed in gitops/.
CLUSTER_SIZES: Final = "cluster-sizes"
# Substituted from CLUSTER_VALUES.
ENVIRONMENT_VAR: Final = "environment"

# Kustomization key and path of the per-cluster entry point (infrastructure: namespaces' base, Flagger, ...).
CLUSTER_KUSTOMIZATION: Final = "cluster"


def kustomization_name(key: str) -> str:
    """Flux Kustomizations of this repository, named after their source: `platform-cluster`, ..."""
    return f"{FLUX_SOURCE}-{key}"


def cluster_path(environment: str) -> str:
    return f"./gitops/clusters/{environment}"


# One Kustomization per onboarded project renders this base with Flux post-build substitution,
# so the list of projects lives only in stack config.
PROJECT_NAMESPACE_PATH: Final = "./gitops/infrastructure/project-namespace"
PROJECT_NAMESPACE_VAR: Final = "project_namespace"


def project_namespace_kustomization(slug: str) -> str:
    return f"ns-{slug}"


# In a project's namespace: the source of its repository's deploy branch and the Kustomization of its overlay.
def project_source(slug: str) -> str:
    return slug


def project_kustomization(slug: str) -> str:
    return f"{slug}-app"


# Path inside an onboarded project's repository that its Kustomization reconciles.
def project_overlay_path(environment: str) -> str:
    return f"./deploy/overlays/{environment}"
