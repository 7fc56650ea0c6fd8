"""Azure ML workspace of one environment, its storage, and CPU and GPU clusters that scale from 0."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as aml
from pulumi_azure_native import storage

from infra import roles
from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role, user_assigned_identity
from infra.private_link import DISABLED, ENABLED


@dataclass(frozen=True)
class ComputeClusterSpec:
    name: str
    vm_size: str
    max_nodes: int


@dataclass(frozen=True)
class MlWorkspaceArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: str
    storage_account_name: str
    dvc_container_name: str
    key_vault_id: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    clusters: tuple[ComputeClusterSpec, ...]
    subscription_id: str
    # The clusters' identity: with shared keys off, a job that reads or writes a model needs a
    # user-assigned identity holding Storage Blob Data Contributor on the workspace's storage.
    compute_identity_name: str
    # No public endpoint on the workspace or its storage; both are reached through private endpoints.
    private: bool
    tags: Mapping[str, str]


class MlWorkspace(pulumi.ComponentResource):
    workspace_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    workspace_principal_id: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]
    storage_account_name: pulumi.Output[str]
    dvc_container_name: pulumi.Output[str]
    dvc_container_id: pulumi.Output[str]
    compute_identity_principal_id: pulumi.Output[str]

    def __init__(self, name: str, args: MlWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:MlWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = storage.StorageAccount(
            f"{name}-storage",
            account_name=args.storage_account_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name="Standard_ZRS"),
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            # Entra ID only: the workspace's datastores use its identity (system_datastores_auth_mode below),
            # which Azure ML supports with shared keys off, in preview, except model packaging
            # (learn.microsoft.com/azure/machine-learning/how-to-disable-local-auth-storage).
            allow_shared_key_access=False,
            public_network_access=DISABLED if args.private else ENABLED,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action="Deny" if args.private else "Allow", bypass="AzureServices"
            ),
            tags=dict(args.tags),
            opts=child,
        )
        # Full data sets tracked by DVC in the projects live here, next to what Azure ML reads.
        container = storage.BlobContainer(
            f"{name}-dvc",
            container_name=args.dvc_container_name,
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            public_access=storage.PublicAccess.NONE,
            opts=child,
        )
        workspace = aml.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=aml.SkuArgs(name="Basic", tier="Basic"),
            identity=aml.ManagedServiceIdentityArgs(type=aml.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            storage_account=account.id,
            key_vault=args.key_vault_id,
            container_registry=args.registry_id,
            application_insights=args.app_insights_id,
            # Datastores use identities rather than storage account keys. The API takes AccessKey, Identity or
            # UserDelegationSAS and reads them case-insensitively; Microsoft's own ARM examples write
            # "identity" (azure-ai-ml's enum is case-insensitive too).
            system_datastores_auth_mode="identity",
            # A managed virtual network isolates compute without a VNet to run; outbound internet stays
            # open because training jobs install packages. For the storage account, vault and registry
            # when their public access is off, it adds managed private endpoints by itself
            # (learn.microsoft.com/azure/machine-learning/how-to-managed-network#list-of-required-rules).
            managed_network=aml.ManagedNetworkSettingsArgs(isolation_mode="AllowInternetOutbound"),
            public_network_access=DISABLED if args.private else ENABLED,
            # A registry without a public endpoint cannot build environment images itself: the CPU
            # cluster, inside the managed network, builds them (how-to-secure-workspace-vnet, ACR section).
            image_build_compute=args.clusters[0].name if args.private else None,
            tags=dict(args.tags),
            opts=child,
        )
        compute_identity = user_assigned_identity(
            f"{name}-compute-identity",
            resource_name=args.compute_identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=child,
        )
        # Model inputs and outputs of jobs under this identity, with shared keys off (the disable-local-auth
        # article's "Model Registry and ML Flow" row).
        blob_access = grant_role(
            f"{name}-compute-blob-data",
            principal_id=compute_identity.principal_id,
            role_definition_id=roles.definition_id(args.subscription_id, roles.STORAGE_BLOB_DATA_CONTRIBUTOR),
            scope=account.id,
            description="Azure ML jobs read inputs and write outputs with their compute's identity",
            opts=child,
        )
        for cluster in args.clusters:
            aml.Compute(
                f"{name}-{cluster.name}",
                compute_name=cluster.name,
                workspace_name=workspace.name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                identity=aml.ManagedServiceIdentityArgs(
                    type=aml.ManagedServiceIdentityType.USER_ASSIGNED,
                    user_assigned_identities=[compute_identity.id],
                ),
                properties=aml.AmlComputeArgs(
                    compute_type="AmlCompute",
                    disable_local_auth=True,
                    properties=aml.AmlComputePropertiesArgs(
                        vm_size=cluster.vm_size,
                        vm_priority="Dedicated",
                        # Idle clusters cost nothing: nodes exist only while jobs run.
                        scale_settings=aml.ScaleSettingsArgs(
                            min_node_count=0,
                            max_node_count=cluster.max_nodes,
                            node_idle_time_before_scale_down="PT10M",
                        ),
                        remote_login_port_public_access="Disabled",
                        # Nodes live in the workspace's managed network, so they need no public IP.
                        enable_node_public_ip=False,
                    ),
                ),
                tags=dict(args.tags),
                # A job may start as soon as the cluster exists; its identity must already reach the storage.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[blob_access]),
            )
        self.workspace_name = workspace.name
        self.workspace_id = workspace.id
        self.workspace_principal_id = workspace.identity.apply(lambda i: i.principal_id if i else None)
        self.storage_account_id = account.id
        self.storage_account_name = account.name
        self.dvc_container_name = container.name
        self.dvc_container_id = container.id
        self.compute_identity_principal_id = compute_identity.principal_id
        self.register_outputs(
            {
                "workspace_name": self.workspace_name,
                "workspace_id": self.workspace_id,
                "workspace_principal_id": self.workspace_principal_id,
                "storage_account_id": self.storage_account_id,
                "storage_account_name": self.storage_account_name,
                "dvc_container_name": self.dvc_container_name,
                "dvc_container_id": self.dvc_container_id,
                "compute_identity_principal_id": self.compute_identity_principal_id,
            }
        )
