"""What the in-cluster stack of an environment (infra/components/cluster_gitops.py) needs from Azure Resource
Manager, created by the environment stack, whose agents reach ARM wherever they run:

- Flux's access to Azure Repos: the bootstrap stack's Flux identity federated with this cluster's
  source-controller (the GitRepositories name `provider: azure`; no credential exists, none expires);
- the in-cluster stack's rights in the cluster: its deploy identity holds exactly the roles to manage the
  objects it creates where they live, its preview identity their read-only twins (infra/roles.py KubeRole)
  and the Cluster User Role, which reads the cluster's user kubeconfig.

Created one stage before the in-cluster stack runs, so Azure has had that long to apply the assignments.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import managedidentity

from infra import gitops, kube_rbac, outputs, roles
from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role
from infra.components.workload_identities import TOKEN_EXCHANGE_AUDIENCE
from infra.stacks import cluster_stack

# These resources were children of ClusterGitOps before the in-cluster objects moved to their own stack:
# the alias keeps their URNs, so the split replaces none of them.
_FORMER_TYPE = f"{TYPE_PREFIX}:ClusterGitOps"


@dataclass(frozen=True)
class ClusterAccessArgs:
    environment: str
    subscription_id: str
    cluster_id: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    # The bootstrap stack's: {FLUX_IDENTITY_* key: value}, {KubeRole key: GUID}, the two pipeline identities.
    flux_identity: pulumi.Input[Mapping[str, str]]
    kube_role_guids: pulumi.Input[Mapping[str, str]]
    deploy_principal_id: pulumi.Input[str]
    preview_principal_id: pulumi.Input[str]
    # {project slug: its namespace}: where each project's Flux objects live.
    namespaces: Mapping[str, str]


def _pick(mapping: pulumi.Input[Mapping[str, str]], key: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(mapping).apply(lambda values: values[key])


class ClusterAccess(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ClusterAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            f"{TYPE_PREFIX}:ClusterAccess",
            name,
            None,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=_FORMER_TYPE)])
            ),
        )
        self._name = name
        self._args = args
        self._stack = cluster_stack(args.environment)
        cluster = pulumi.Output.from_input(args.cluster_id)
        self._grant("namespaces", cluster, roles.KUBE_NAMESPACES, "the projects' namespaces")
        self._grant(
            "flux",
            cluster.apply(lambda cluster_id: kube_rbac.scope(cluster_id, gitops.FLUX_NAMESPACE)),
            roles.KUBE_FLUX,
            "the platform's Flux objects in flux-system",
        )
        for slug, namespace in args.namespaces.items():
            self._grant(
                f"tenant-{slug}",
                cluster.apply(lambda cluster_id, ns=namespace: kube_rbac.scope(cluster_id, ns)),
                roles.KUBE_TENANT,
                f"{slug}'s Flux source, Kustomization and applier account",
            )
        # The preview identity reads the cluster's user credential; Cluster User Role allows that and
        # nothing else (listClusterUserCredential/action, managedClusters/read). The deploy identity's
        # Contributor on the subscription includes it.
        grant_role(
            f"{name}-preview-cluster-user",
            principal_id=args.preview_principal_id,
            role_definition_id=roles.definition_id(args.subscription_id, roles.AKS_CLUSTER_USER),
            scope=args.cluster_id,
            description=f"pulumi preview -s {self._stack} reads the cluster's user kubeconfig",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._federate_flux(name, args)
        self.register_outputs({})

    def _grant(self, key: str, scope: pulumi.Input[str], role: roles.KubeRole, what: str) -> None:
        """The deploy identity's role at `scope`, and its read-only twin for the preview identity."""
        args = self._args
        for command, identity, principal, granted, verb in (
            ("up", "deploy", args.deploy_principal_id, role, "manages"),
            ("preview", "preview", args.preview_principal_id, role.read_only(), "reads"),
        ):
            grant_role(
                f"{self._name}-{identity}-kube-{key}",
                principal_id=principal,
                role_definition_id=_pick(args.kube_role_guids, granted.key).apply(
                    lambda guid: roles.definition_id_of(args.subscription_id, guid)
                ),
                scope=scope,
                description=f"pulumi {command} -s {self._stack} {verb} {what}",
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _federate_flux(self, name: str, args: ClusterAccessArgs) -> None:
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
