"""AKS of one environment: Entra-only access, workload identity, a GPU pool from 0, the Flux extension."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerservice, kubernetesconfiguration

from infra import address_plan, gitops, naming, roles
from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role, user_assigned_identity


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
    # Private cluster: nodes in this subnet of the environment's VNet, an API server reachable only from
    # the VNet (the environment's agents; `az aks command invoke` from elsewhere). None: public API server.
    node_subnet_id: pulumi.Input[str] | None
    control_plane_identity_name: str
    # The identity Flux's source-controller reads Azure Repos with (the bootstrap stack's, per environment).
    flux_client_id: pulumi.Input[str]
    tags: Mapping[str, str]


class Aks(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    # Known once the Flux extension is installed, and with it Flux's custom resource definitions.
    flux_extension_id: pulumi.Output[str]

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
            control_plane = user_assigned_identity(
                f"{name}-control-plane-identity",
                resource_name=args.control_plane_identity_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=dict(args.tags),
                opts=child,
            )
            cluster_after.append(
                grant_role(
                    f"{name}-control-plane-subnet",
                    principal_id=control_plane.principal_id,
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
        grant_role(
            f"{name}-kubelet-acr-pull",
            principal_id=kubelet_object_id,
            role_definition_id=roles.definition_id(args.subscription_id, roles.ACR_PULL),
            scope=args.registry_id,
            description="The AKS kubelet pulls the projects' images",
            opts=child,
        )
        flux = kubernetesconfiguration.Extension(
            f"{name}-flux",
            extension_name="flux",
            extension_type="microsoft.flux",
            cluster_name=cluster.name,
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            resource_group_name=args.resource_group_name,
            auto_upgrade_minor_version=True,
            release_train="Stable",
            scope=kubernetesconfiguration.ScopeArgs(
                cluster=kubernetesconfiguration.ScopeClusterArgs(release_namespace=gitops.FLUX_NAMESPACE)
            ),
            # source-controller signs in to Azure DevOps as this identity (GitRepository `provider: azure`):
            # the extension federates its service account ("Workload identity in AKS clusters",
            # learn.microsoft.com/azure/azure-arc/kubernetes/tutorial-use-gitops-flux2). Its
            # FluxConfiguration resource takes `provider` only from API 2024-11-01, which pulumi-azure-native
            # 3.x does not expose (it pins 2023-05-01), so the Flux objects are Pulumi's
            # (infra/components/cluster_gitops.py).
            configuration_settings={
                "workloadIdentity.enable": "true",
                "workloadIdentity.azureClientId": args.flux_client_id,
                "workloadIdentity.azureTenantId": args.tenant_id,
            },
            opts=child,
        )
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None)
        self.flux_extension_id = flux.id
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_id": self.cluster_id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "flux_extension_id": self.flux_extension_id,
            }
        )
