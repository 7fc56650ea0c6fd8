"""What an environment's cluster needs before Flux's first reconciliation, created by the environment's
in-cluster stack (infra/stacks.py) through a Kubernetes provider that signs in with Entra ID as the pipeline's
own identity (infra/kubeconfig.py):

- the ConfigMap `cluster-values`: what only the stack knows, which every Kustomization substitutes;
- the Flux source and Kustomizations of this repository (gitops/clusters/<env>, one namespace base per
  project) in flux-system; every GitRepository names `provider: azure`, so Flux reads Azure Repos as the
  identity the environment stack federated with the cluster (infra/components/cluster_access.py);
- per onboarded project: its namespace (Flux cannot put its own objects in a namespace that does not exist
  yet), the account its Kustomization applies as (admin of that namespace only), its GitRepository and
  Kustomization of `deploy/overlays/<env>`.

Everything else it needs (the cluster, the identities' rights in it, Flux's identity) the environment stack
creates through Azure Resource Manager before this stack runs.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import containerservice

from infra import gitops, kube_rbac, kubeconfig
from infra.components import TYPE_PREFIX

# Flux reconciles its sources and the stack's Kustomizations at these intervals.
SOURCE_INTERVAL = "2m"
KUSTOMIZATION_INTERVAL = "5m"
PROJECT_INTERVAL = "2m"
# Pod security of the project namespaces: models run as ordinary non-root containers.
POD_SECURITY = "restricted"
PROJECT_LABEL = "mlops-platform/project"
ENVIRONMENT_LABEL = "mlops-platform/environment"


@dataclass(frozen=True)
class FluxProject:
    """An onboarded project whose `deploy/overlays/<env>` Flux reconciles into its namespace, from the
    project's deploy branch of this environment (its releases are commits there)."""

    slug: str
    namespace: str
    repository_url: str
    branch: str


@dataclass(frozen=True)
class ClusterGitOpsArgs:
    environment: str
    # Where the cluster is: the in-cluster stack reads these from its environment stack.
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    # Pinned pod security version of the project namespaces: the cluster's own Kubernetes version, so an
    # upgrade cannot tighten enforcement unannounced (an upgrade is a reviewed change of the stack file).
    kubernetes_version: pulumi.Input[str]
    repository_url: pulumi.Input[str]
    branch: pulumi.Input[str]
    # The environment stack's projects: the objects of each are declared once the list is known, which a
    # stack reference's outputs are in a preview too (the engine reads the referenced stack's state).
    projects: pulumi.Input[Sequence[FluxProject]]


class ClusterGitOps(pulumi.ComponentResource):
    provider: kubernetes.Provider
    namespaces: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: ClusterGitOpsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ClusterGitOps", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        # The cluster's subscription is the environment's, which this stack's own config does not name.
        azure = azure_native.Provider(f"{name}-azure", subscription_id=args.subscription_id, opts=child)
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=args.cluster_name,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=azure),
        )
        self.provider = kubernetes.Provider(
            f"{name}-provider",
            kubeconfig=credentials.kubeconfigs.apply(
                lambda kubeconfigs: kubeconfig.workload_identity(kubeconfig.decode(kubeconfigs))
            ),
            # The cluster's identity decides replacement, not the kubeconfig text (pulumi-kubernetes
            # DiffConfig: an unchanged clusterIdentifier never replaces the provider's resources).
            cluster_identifier=args.cluster_id,
            opts=child,
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)

        values = kubernetes.core.v1.ConfigMap(
            f"{name}-cluster-values",
            metadata={"name": gitops.CLUSTER_VALUES, "namespace": gitops.FLUX_NAMESPACE},
            data={gitops.ENVIRONMENT_VAR: args.environment},
            opts=on_cluster,
        )
        source = self._git_repository(
            f"{name}-platform-source",
            gitops.FLUX_SOURCE,
            gitops.FLUX_NAMESPACE,
            args.repository_url,
            args.branch,
        )
        self._cluster = self._kustomization(
            f"{name}-platform-cluster",
            gitops.kustomization_name(gitops.CLUSTER_KUSTOMIZATION),
            gitops.FLUX_NAMESPACE,
            {
                "sourceRef": {"kind": "GitRepository", "name": gitops.FLUX_SOURCE},
                "path": gitops.cluster_path(args.environment),
                "serviceAccountName": gitops.PLATFORM_APPLIER,
            },
            pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[source, values]),
        )
        self.namespaces = pulumi.Output.all(args.projects, args.kubernetes_version).apply(
            lambda resolved: [self._project(project, str(resolved[1])) for project in resolved[0]]
        )
        self.register_outputs({"namespaces": self.namespaces})

    def _project(self, project: FluxProject, kubernetes_version: str) -> str:
        """Declare one project's objects; returns its namespace."""
        name = self._name
        namespace = kubernetes.core.v1.Namespace(
            f"{name}-{project.slug}-namespace",
            metadata={
                "name": project.namespace,
                "labels": self._namespace_labels(project, kubernetes_version),
            },
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        # The namespace's quota, limits and network policies: gitops/infrastructure/project-namespace.
        self._kustomization(
            f"{name}-{project.slug}-namespace-base",
            gitops.kustomization_name(gitops.project_namespace_kustomization(project.slug)),
            gitops.FLUX_NAMESPACE,
            {
                "dependsOn": [{"name": gitops.kustomization_name(gitops.CLUSTER_KUSTOMIZATION)}],
                "sourceRef": {"kind": "GitRepository", "name": gitops.FLUX_SOURCE},
                "path": gitops.PROJECT_NAMESPACE_PATH,
                "serviceAccountName": gitops.PLATFORM_APPLIER,
                "postBuild": {
                    "substitute": {gitops.PROJECT_NAMESPACE_VAR: project.namespace},
                    "substituteFrom": [
                        {"kind": "ConfigMap", "name": gitops.CLUSTER_VALUES},
                        {"kind": "ConfigMap", "name": gitops.CLUSTER_SIZES},
                    ],
                },
            },
            pulumi.ResourceOptions(
                parent=self, provider=self.provider, depends_on=[self._cluster, namespace]
            ),
        )
        self._tenant(project, namespace)
        return project.namespace

    def _namespace_labels(self, project: FluxProject, kubernetes_version: str) -> dict[str, str]:
        version = f"v{kubernetes_version}"
        return {
            # Selects the namespace for the platform's admission policies (gitops/infrastructure/policies).
            PROJECT_LABEL: project.slug,
            ENVIRONMENT_LABEL: self._args.environment,
            "pod-security.kubernetes.io/enforce": POD_SECURITY,
            "pod-security.kubernetes.io/enforce-version": version,
            # Warn and audit at latest show what a future version would reject.
            "pod-security.kubernetes.io/warn": POD_SECURITY,
            "pod-security.kubernetes.io/warn-version": "latest",
            "pod-security.kubernetes.io/audit": POD_SECURITY,
            "pod-security.kubernetes.io/audit-version": "latest",
        }

    def _tenant(self, project: FluxProject, namespace: kubernetes.core.v1.Namespace) -> None:
        name = self._name
        in_namespace = pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[namespace])
        # The extension enforces Flux's multi-tenancy: a Kustomization applies as an account of its own
        # namespace, which may do there what the namespace's admin may do, and nothing elsewhere.
        applier = kubernetes.core.v1.ServiceAccount(
            f"{name}-{project.slug}-applier",
            metadata={"name": gitops.PROJECT_APPLIER, "namespace": project.namespace},
            opts=in_namespace,
        )
        binding = kubernetes.rbac.v1.RoleBinding(
            f"{name}-{project.slug}-applier-admin",
            metadata={"name": gitops.PROJECT_APPLIER, "namespace": project.namespace},
            role_ref={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": gitops.PROJECT_APPLIER_ROLE,
            },
            subjects=[
                {"kind": "ServiceAccount", "name": gitops.PROJECT_APPLIER, "namespace": project.namespace}
            ],
            opts=in_namespace,
        )
        source = self._git_repository(
            f"{name}-{project.slug}-source",
            gitops.project_source(project.slug),
            project.namespace,
            project.repository_url,
            project.branch,
            depends_on=[namespace],
        )
        self._kustomization(
            f"{name}-{project.slug}-app",
            gitops.project_kustomization(project.slug),
            project.namespace,
            {
                "interval": PROJECT_INTERVAL,
                "sourceRef": {"kind": "GitRepository", "name": gitops.project_source(project.slug)},
                "path": gitops.project_overlay_path(self._args.environment),
                "serviceAccountName": gitops.PROJECT_APPLIER,
                "targetNamespace": project.namespace,
            },
            pulumi.ResourceOptions(
                parent=self, provider=self.provider, depends_on=[source, applier, binding]
            ),
        )

    def _git_repository(
        self,
        resource_name: str,
        name: str,
        namespace: str,
        url: pulumi.Input[str],
        branch: pulumi.Input[str],
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> kubernetes.apiextensions.CustomResource:
        return kubernetes.apiextensions.CustomResource(
            resource_name,
            api_version=kube_rbac.GIT_REPOSITORY.api_version,
            kind=kube_rbac.GIT_REPOSITORY.kind,
            metadata={"name": name, "namespace": namespace},
            spec={
                "url": url,
                "ref": {"branch": branch},
                "provider": gitops.GIT_PROVIDER,
                "interval": SOURCE_INTERVAL,
                "timeout": "10m",
            },
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=list(depends_on)),
        )

    def _kustomization(
        self,
        resource_name: str,
        name: str,
        namespace: str,
        spec: Mapping[str, Any],
        opts: pulumi.ResourceOptions,
    ) -> kubernetes.apiextensions.CustomResource:
        return kubernetes.apiextensions.CustomResource(
            resource_name,
            api_version=kube_rbac.KUSTOMIZATION.api_version,
            kind=kube_rbac.KUSTOMIZATION.kind,
            metadata={"name": name, "namespace": namespace},
            spec={"interval": KUSTOMIZATION_INTERVAL, "prune": True, **spec},
            opts=opts,
        )
