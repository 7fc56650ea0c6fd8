"""What an environment's cluster needs before Flux's first reconciliation, created by Pulumi through a
Kubernetes provider that signs in with Entra ID as the pipeline's own identity (infra/kubeconfig.py):

- Flux's access to Azure Repos: the bootstrap stack's Flux identity federated with this cluster's
  source-controller, and GitRepositories with `provider: azure` (no credential exists, none expires);
- the ConfigMap `cluster-values`: what only the stack knows, which every Kustomization substitutes;
- the Flux source and Kustomizations of this repository (gitops/clusters/<env>, one namespace base per
  project) in flux-system;
- per onboarded project: its namespace (Flux cannot put its own objects in a namespace that does not exist
  yet), the account its Kustomization applies as (admin of that namespace only), its GitRepository and
  Kustomization of `deploy/overlays/<env>`.

The deploy identity holds exactly the rights to manage these objects where they live, and the preview
identity the rights to read them (infra/roles.py KubeRole), both assigned here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import authorization, containerservice, managedidentity

from infra import gitops, kube_rbac, kubeconfig, outputs, roles
from infra.components import TYPE_PREFIX
from infra.components.workload_identities import TOKEN_EXCHANGE_AUDIENCE

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
    subscription_id: str
    resource_group_name: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    # Pinned pod security version of the project namespaces: the cluster's own Kubernetes version, so an
    # upgrade cannot tighten enforcement unannounced (an upgrade is a reviewed change of the stack file).
    kubernetes_version: str
    oidc_issuer_url: pulumi.Input[str]
    flux_extension_id: pulumi.Input[str]
    # The bootstrap stack's: {FLUX_IDENTITY_* key: value}, {KubeRole key: GUID}, the two pipeline identities.
    flux_identity: pulumi.Input[Mapping[str, str]]
    kube_role_guids: pulumi.Input[Mapping[str, str]]
    deploy_principal_id: pulumi.Input[str]
    preview_principal_id: pulumi.Input[str]
    repository_url: str
    branch: str
    projects: Sequence[FluxProject]


def _pick(mapping: pulumi.Input[Mapping[str, str]], key: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(mapping).apply(lambda values: values[key])


class ClusterGitOps(pulumi.ComponentResource):
    provider: kubernetes.Provider

    def __init__(
        self, name: str, args: ClusterGitOpsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ClusterGitOps", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        flux_namespace_scope = pulumi.Output.from_input(args.cluster_id).apply(
            lambda cluster: kube_rbac.scope(cluster, gitops.FLUX_NAMESPACE)
        )
        grants = [
            self._grant("namespaces", args.cluster_id, roles.KUBE_NAMESPACES, "the projects' namespaces"),
            self._grant(
                "flux", flux_namespace_scope, roles.KUBE_FLUX, "the platform's Flux objects in flux-system"
            ),
            *(
                self._grant(
                    f"tenant-{project.slug}",
                    pulumi.Output.from_input(args.cluster_id).apply(
                        lambda cluster, ns=project.namespace: kube_rbac.scope(cluster, ns)
                    ),
                    roles.KUBE_TENANT,
                    f"{project.slug}'s Flux source, Kustomization and applier account",
                )
                for project in args.projects
            ),
        ]
        # The preview identity reads the cluster's user credential; Cluster User Role allows that and
        # nothing else (listClusterUserCredential/action, managedClusters/read).
        authorization.RoleAssignment(
            f"{name}-preview-cluster-user",
            principal_id=args.preview_principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=roles.definition_id(args.subscription_id, roles.AKS_CLUSTER_USER),
            scope=args.cluster_id,
            description=f"pulumi preview -s {args.environment} reads the cluster's user kubeconfig",
            opts=child,
        )
        self._federate_flux(name, args)

        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=args.cluster_name,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        # The provider waits for the extension (Flux's CRDs) and for the roles it acts with.
        ready = pulumi.Output.all(args.flux_extension_id, *(grant.id for grant in grants))
        self.provider = kubernetes.Provider(
            f"{name}-provider",
            kubeconfig=pulumi.Output.all(credentials.kubeconfigs, ready).apply(
                lambda resolved: kubeconfig.workload_identity(kubeconfig.decode(resolved[0]))
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
        after_source = pulumi.ResourceOptions(
            parent=self, provider=self.provider, depends_on=[source, values]
        )
        substitute_from = [
            {"kind": "ConfigMap", "name": gitops.CLUSTER_VALUES},
            {"kind": "ConfigMap", "name": gitops.CLUSTER_SIZES},
        ]
        cluster = self._kustomization(
            f"{name}-platform-cluster",
            gitops.kustomization_name(gitops.CLUSTER_KUSTOMIZATION),
            gitops.FLUX_NAMESPACE,
            {
                "sourceRef": {"kind": "GitRepository", "name": gitops.FLUX_SOURCE},
                "path": gitops.cluster_path(args.environment),
                "serviceAccountName": gitops.PLATFORM_APPLIER,
            },
            after_source,
        )
        for project in args.projects:
            namespace = kubernetes.core.v1.Namespace(
                f"{name}-{project.slug}-namespace",
                metadata={"name": project.namespace, "labels": self._namespace_labels(project)},
                opts=on_cluster,
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
                        "substituteFrom": substitute_from,
                    },
                },
                pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[cluster, namespace]),
            )
            self._project(name, project, namespace)
        self.register_outputs({})

    def _grant(
        self, key: str, scope: pulumi.Input[str], role: roles.KubeRole, what: str
    ) -> authorization.RoleAssignment:
        """The deploy identity's role at `scope`, and its read-only twin for the preview identity; returns the
        deploy identity's assignment."""
        args = self._args
        assignments = {
            command: authorization.RoleAssignment(
                f"{self._name}-{identity}-kube-{key}",
                principal_id=principal,
                principal_type="ServicePrincipal",
                role_definition_id=_pick(args.kube_role_guids, granted.key).apply(
                    lambda guid: roles.definition_id_of(args.subscription_id, guid)
                ),
                scope=scope,
                description=f"pulumi {command} -s {args.environment} {verb} {what}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for command, identity, principal, granted, verb in (
                ("up", "deploy", args.deploy_principal_id, role, "manages"),
                ("preview", "preview", args.preview_principal_id, role.read_only(), "reads"),
            )
        }
        return assignments["up"]

    def _federate_flux(self, name: str, args: ClusterGitOpsArgs) -> None:
        """source-controller's service account may sign in as the Flux identity, which the bootstrap stack
        owns in its own subscription (so this one resource goes through a provider for that subscription)."""
        bootstrap_subscription = azure_native.Provider(
            f"{name}-bootstrap-subscription",
            subscription_id=_pick(args.flux_identity, outputs.FLUX_IDENTITY_SUBSCRIPTION_ID),
            opts=pulumi.ResourceOptions(parent=self),
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-flux-federation",
            federated_identity_credential_resource_name=f"aks-{args.environment}-source-controller",
            resource_name_=_pick(args.flux_identity, outputs.FLUX_IDENTITY_NAME),
            resource_group_name=_pick(args.flux_identity, outputs.FLUX_IDENTITY_RESOURCE_GROUP),
            issuer=args.oidc_issuer_url,
            subject=f"system:serviceaccount:{gitops.FLUX_NAMESPACE}:{gitops.SOURCE_CONTROLLER_ACCOUNT}",
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, provider=bootstrap_subscription),
        )

    def _namespace_labels(self, project: FluxProject) -> dict[str, str]:
        version = f"v{self._args.kubernetes_version}"
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

    def _project(self, name: str, project: FluxProject, namespace: kubernetes.core.v1.Namespace) -> None:
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
        url: str,
        branch: str,
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
