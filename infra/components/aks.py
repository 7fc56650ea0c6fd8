"""AKS of one environment: Entra-only access, workload identity, a GPU pool from 0, Flux GitOps."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, containerservice, kubernetesconfiguration, managedidentity

from infra import address_plan, gitops, naming, roles
from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class FluxProject:
    """An onboarded project whose `deploy/overlays/<env>` Flux reconciles into its namespace, from the
    project's deploy branch of this environment (its releases are commits there)."""

    slug: str
    namespace: str
    repository_url: str
    branch: str


@dataclass(frozen=True)
class AksArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    environment: str
    cluster_name: str
    node_resource_group: str
    kubernetes_version: str
    system_vm_size: str
    system_min: int
    system_max: int
    gpu_vm_size: str
    gpu_max: int
    tenant_id: pulumi.Input[str]
    subscription_id: str
    registry_id: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    gitops_repository_url: str
    gitops_branch: str
    gitops_auth_secret: str
    projects: Sequence[FluxProject]
    # Private cluster: nodes in this subnet of the environment's VNet, an API server reachable only from
    # the VNet (its pool's agents; `az aks command invoke` from elsewhere). None: public API server.
    node_subnet_id: pulumi.Input[str] | None
    control_plane_identity_name: str
    tags: Mapping[str, str]


class Aks(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]

    def __init__(self, name: str, args: AksArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Aks", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        private = args.node_subnet_id is not None
        identity = containerservice.ManagedClusterIdentityArgs(
            type=containerservice.ResourceIdentityType.SYSTEM_ASSIGNED
        )
        cluster_after: list[pulumi.Resource] = []
        if private:
            # In our VNet the control plane's identity joins nodes and internal load balancers to the subnet
            # (subnets/join/action, learn.microsoft.com/azure/aks/concepts-identity): the right must exist
            # before the cluster, so the identity is ours, not the cluster's system identity.
            control_plane = managedidentity.UserAssignedIdentity(
                f"{name}-control-plane-identity",
                resource_name_=args.control_plane_identity_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=dict(args.tags),
                opts=child,
            )
            cluster_after.append(
                authorization.RoleAssignment(
                    f"{name}-control-plane-subnet",
                    principal_id=control_plane.principal_id,
                    principal_type="ServicePrincipal",
                    role_definition_id=roles.definition_id(args.subscription_id, roles.NETWORK_CONTRIBUTOR),
                    scope=args.node_subnet_id,
                    description="The AKS control plane joins its nodes and load balancers to this subnet",
                    opts=child,
                )
            )
            identity = containerservice.ManagedClusterIdentityArgs(
                type=containerservice.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[control_plane.id],
            )
        cluster = containerservice.ManagedCluster(
            f"{name}-cluster",
            resource_name_=args.cluster_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            node_resource_group=args.node_resource_group,
            dns_prefix=args.cluster_name,
            kubernetes_version=args.kubernetes_version,
            sku=containerservice.ManagedClusterSKUArgs(name="Base", tier="Standard"),
            identity=identity,
            # Private: the API server has only a private endpoint in the nodes' VNet, its name in a zone AKS
            # manages and links to that VNet ("system"); Flux runs in the cluster and is unaffected.
            api_server_access_profile=containerservice.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=private,
                private_dns_zone="system" if private else None,
                enable_private_cluster_public_fqdn=False if private else None,
            ),
            enable_rbac=True,
            # Entra ID is the only way in: no static kubeconfig credentials, authorisation by Azure RBAC.
            disable_local_accounts=True,
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True, enable_azure_rbac=True, tenant_id=args.tenant_id
            ),
            # The OIDC issuer plus workload identity let pods exchange service-account tokens for
            # Entra tokens, so no secret of a managed identity is ever mounted.
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                    enabled=True
                ),
                image_cleaner=containerservice.ManagedClusterSecurityProfileImageCleanerArgs(
                    enabled=True, interval_hours=48
                ),
            ),
            # Cilium enforces the NetworkPolicies that gitops/ and the project overlays ship.
            network_profile=containerservice.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay",
                network_dataplane="cilium",
                network_policy="cilium",
                load_balancer_sku="standard",
                # Said outright once the nodes share a VNet whose ranges must not overlap them.
                pod_cidr=address_plan.AKS_POD_CIDR if private else None,
                service_cidr=address_plan.AKS_SERVICE_CIDR if private else None,
                dns_service_ip=address_plan.AKS_DNS_SERVICE_IP if private else None,
            ),
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel="patch", node_os_upgrade_channel="NodeImage"
            ),
            addon_profiles={
                "omsagent": containerservice.ManagedClusterAddonProfileArgs(
                    enabled=True, config={"logAnalyticsWorkspaceResourceID": args.log_analytics_workspace_id}
                ),
                "azurepolicy": containerservice.ManagedClusterAddonProfileArgs(enabled=True),
            },
            agent_pool_profiles=[
                containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=naming.AKS_SYSTEM_POOL,
                    mode="System",
                    os_type="Linux",
                    os_sku="AzureLinux",
                    vm_size=args.system_vm_size,
                    enable_auto_scaling=True,
                    min_count=args.system_min,
                    max_count=args.system_max,
                    count=args.system_min,
                    type="VirtualMachineScaleSets",
                    vnet_subnet_id=args.node_subnet_id,
                )
            ],
            tags=dict(args.tags),
            # The autoscaler changes the node count; Pulumi must not fight it on every update.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["agentPoolProfiles[0].count"], depends_on=cluster_after
            ),
        )
        label_key, label_value = naming.GPU_NODE_LABEL
        containerservice.AgentPool(
            f"{name}-gpu-pool",
            agent_pool_name=naming.AKS_GPU_POOL,
            resource_name_=cluster.name,
            resource_group_name=args.resource_group_name,
            mode="User",
            os_type="Linux",
            os_sku="Ubuntu",
            vm_size=args.gpu_vm_size,
            # GPU nodes are the expensive ones: none exist until a pod asks for `nvidia.com/gpu`.
            enable_auto_scaling=True,
            min_count=0,
            max_count=args.gpu_max,
            count=0,
            # Only pods that tolerate the taint land here, so CPU workloads never hold a GPU node up.
            node_taints=[naming.GPU_TAINT],
            node_labels={label_key: label_value},
            gpu_profile=containerservice.GPUProfileArgs(driver="Install"),
            type="VirtualMachineScaleSets",
            vnet_subnet_id=args.node_subnet_id,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
        )
        kubelet_object_id = cluster.identity_profile.apply(
            lambda profile: profile["kubeletidentity"].object_id if profile else None
        )
        authorization.RoleAssignment(
            f"{name}-kubelet-acr-pull",
            principal_id=kubelet_object_id,
            principal_type="ServicePrincipal",
            role_definition_id=roles.definition_id(args.subscription_id, roles.ACR_PULL),
            scope=args.registry_id,
            description="The AKS kubelet pulls the projects' images",
            opts=child,
        )
        # Extensions and Flux configurations address the cluster the same way.
        on_cluster = {
            "cluster_name": cluster.name,
            "cluster_rp": "Microsoft.ContainerService",
            "cluster_resource_name": "managedClusters",
            "resource_group_name": args.resource_group_name,
        }
        flux = kubernetesconfiguration.Extension(
            f"{name}-flux",
            extension_name="flux",
            extension_type="microsoft.flux",
            **on_cluster,
            auto_upgrade_minor_version=True,
            release_train="Stable",
            scope=kubernetesconfiguration.ScopeArgs(
                cluster=kubernetesconfiguration.ScopeClusterArgs(release_namespace=gitops.FLUX_NAMESPACE)
            ),
            opts=child,
        )
        after_flux = pulumi.ResourceOptions(parent=self, depends_on=[flux])
        platform = kubernetesconfiguration.FluxConfiguration(
            f"{name}-flux-platform",
            flux_configuration_name=gitops.FLUX_SOURCE,
            **on_cluster,
            namespace=gitops.FLUX_NAMESPACE,
            scope="cluster",
            source_kind="GitRepository",
            git_repository=self._git_source(
                args.gitops_repository_url, args.gitops_branch, args.gitops_auth_secret
            ),
            kustomizations={
                gitops.CLUSTER_KUSTOMIZATION: kubernetesconfiguration.KustomizationDefinitionArgs(
                    path=gitops.cluster_path(args.environment),
                    prune=True,
                    sync_interval_in_seconds=300,
                ),
                **{
                    gitops.project_namespace_kustomization(project.slug): (
                        kubernetesconfiguration.KustomizationDefinitionArgs(
                            path=gitops.PROJECT_NAMESPACE_PATH,
                            depends_on=[gitops.CLUSTER_KUSTOMIZATION],
                            prune=True,
                            sync_interval_in_seconds=300,
                            post_build=kubernetesconfiguration.PostBuildDefinitionArgs(
                                substitute={
                                    gitops.PROJECT_NAMESPACE_VAR: project.namespace,
                                    gitops.PROJECT_SLUG_VAR: project.slug,
                                    gitops.PROJECT_ENVIRONMENT_VAR: args.environment,
                                },
                                # The cluster's sizes (quotas, limits), so namespaces follow the cluster.
                                substitute_from=[
                                    kubernetesconfiguration.SubstituteFromDefinitionArgs(
                                        kind="ConfigMap", name=gitops.CLUSTER_VALUES
                                    )
                                ],
                            ),
                        )
                    )
                    for project in args.projects
                },
            },
            opts=after_flux,
        )
        for project in args.projects:
            # Namespace scope: a project's manifests can only create objects in its own namespace.
            kubernetesconfiguration.FluxConfiguration(
                f"{name}-flux-{project.slug}",
                flux_configuration_name=naming.project_flux_configuration(project.slug),
                **on_cluster,
                namespace=project.namespace,
                scope="namespace",
                source_kind="GitRepository",
                git_repository=self._git_source(
                    project.repository_url, project.branch, args.gitops_auth_secret
                ),
                kustomizations={
                    "app": kubernetesconfiguration.KustomizationDefinitionArgs(
                        path=gitops.project_overlay_path(args.environment),
                        prune=True,
                        sync_interval_in_seconds=120,
                    )
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[flux, platform]),
            )
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_id": self.cluster_id,
                "oidc_issuer_url": self.oidc_issuer_url,
            }
        )

    @staticmethod
    def _git_source(
        url: str, branch: str, auth_secret: str
    ) -> kubernetesconfiguration.GitRepositoryDefinitionArgs:
        return kubernetesconfiguration.GitRepositoryDefinitionArgs(
            url=url,
            repository_ref=kubernetesconfiguration.RepositoryRefDefinitionArgs(branch=branch),
            sync_interval_in_seconds=120,
            timeout_in_seconds=600,
            # Credentials live in a cluster secret created out of band, never in stack config or state.
            local_auth_ref=auth_secret or None,
        )
