"""Build agents: Managed DevOps Pools, the environment's pool in its VNet and, where asked, a GPU pool.

Why not Azure DevOps scale-set (elastic) pools: "The only service connection currently supported is an
Azure Resource Manager (ARM) service connection based on a service principal key. ARM service connections
based on a certificate credential or a Managed Identity will fail" (azure-devops-docs pipelines/agents/
scale-set-agents.md, quoted in MicrosoftDocs/azure-devops-docs#11656), and this platform's connections are
federated managed identities with no secret. Managed DevOps Pools is an Azure resource: `pulumi up` creates
it through Azure Resource Manager, and the service creates the Azure DevOps agent pool of the same name in the
organisation, as the identity that creates it, and its queue in each project listed (managed-devops-pools/
prerequisites.md, "Verify Azure DevOps permissions"; the Azure Verified Module's example looks the queue up
by the pool's name).

Shape:
- The environment's pool: a CPU size on the Azure Pipelines `ubuntu-24.04` image (Microsoft-hosted agents'
  software, so the preflight knows its tools), injected into the environment's agents subnet: the only agents
  that reach an isolated environment's private endpoints. Deploy and drift jobs need no GPU.
- A GPU pool where the stack names an image for it: the CUDA sanity training. A pool has one VM size, and the
  Azure Pipelines images carry no NVIDIA driver, so it is a second pool on a gallery image that does. Not
  injected: the agents subnet serves one pool, and the sanity training touches no environment resource.
- Both stateless (a fresh agent per job, "recommended ... as a defense against supply chain attacks") and
  without standby agents: "Omit the ResourcePredictionsProfile section to disable standby agents"
  (configure-scaling.md). They cost nothing while no job runs; a queued job waits minutes for its agent.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops
from pulumi_azure_native import devcenter, devopsinfrastructure

from infra import managed_devops_pools, roles
from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role

STATELESS = "Stateless"
# Only the identity that creates a pool administers it in Azure DevOps (besides the organisation's
# administrators); "Inherit" would hand it to every project and organisation pool administrator.
CREATOR_ONLY = "CreatorOnly"


@dataclass(frozen=True)
class GpuPoolArgs:
    pool_name: str
    vm_size: str
    max_concurrency: int
    # Azure Compute Gallery image: the DevOpsInfrastructure principal needs Reader on it, "If you select an
    # Azure Compute Gallery image that doesn't have this access configured, pool creation fails"
    # (configure-images.md).
    image_id: str


@dataclass(frozen=True)
class AgentsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    dev_center_name: str
    dev_center_project_name: str
    pool_name: str
    vm_size: str
    max_concurrency: int
    # The environment's agents subnet, delegated to Managed DevOps Pools, and its VNet: outbound through the
    # NAT gateway, nothing inbound, and a route to every private endpoint of the environment.
    subnet_id: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    gpu: GpuPoolArgs | None
    devops_organization_url: str
    devops_project_name: str
    devops_project_id: pulumi.Input[str]
    # The first-party principal that creates the agents' VMs and NICs, and the bootstrap's custom role for it.
    devops_infrastructure_principal_id: str
    network_role_definition_id: pulumi.Input[str]
    tags: Mapping[str, str]


class Agents(pulumi.ComponentResource):
    # Azure resource id of each pool, keyed "pool" and "gpu-pool".
    pool_ids: dict[str, pulumi.Output[str]]
    pool_name: pulumi.Output[str]
    queue_id: pulumi.Output[int]
    gpu_pool_name: pulumi.Output[str]
    gpu_queue_id: pulumi.Output[int] | None

    def __init__(self, name: str, args: AgentsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Agents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        # "Managed DevOps Pools requires a Dev Center and Dev Center project ... Multiple Managed DevOps Pools
        # can use the same Dev Center and Dev Center project" (prerequisites.md).
        center = devcenter.DevCenter(
            f"{name}-dev-center",
            dev_center_name=args.dev_center_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=child,
        )
        project = devcenter.Project(
            f"{name}-dev-center-project",
            project_name=args.dev_center_project_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dev_center_id=center.id,
            description="Managed DevOps Pools of the environment (managed by Pulumi)",
            tags=tags,
            opts=child,
        )
        network_access = grant_role(
            f"{name}-devops-infrastructure-network",
            principal_id=args.devops_infrastructure_principal_id,
            role_definition_id=args.network_role_definition_id,
            scope=args.vnet_id,
            description="Managed DevOps Pools (DevOpsInfrastructure) puts the pool's agents in the subnet",
            opts=child,
        )
        pool = self._pool(
            name,
            args,
            project.id,
            args.pool_name,
            args.vm_size,
            args.max_concurrency,
            devopsinfrastructure.PoolImageArgs(
                well_known_image_name=managed_devops_pools.ENVIRONMENT_POOL_IMAGE
            ),
            devopsinfrastructure.NetworkProfileArgs(subnet_id=args.subnet_id),
            # The service checks its rights on the subnet when it creates the pool.
            pulumi.ResourceOptions(parent=self, depends_on=[network_access]),
        )
        self.pool_ids = {"pool": pool.id}
        self.pool_name = pool.name
        self.queue_id = self._queue(args, pool)
        self.gpu_queue_id = None
        self.gpu_pool_name = pulumi.Output.from_input("")
        if args.gpu is not None:
            image_access = grant_role(
                f"{name}-devops-infrastructure-gpu-image",
                principal_id=args.devops_infrastructure_principal_id,
                role_definition_id=roles.definition_id(args.subscription_id, roles.READER),
                scope=args.gpu.image_id,
                description="Managed DevOps Pools (DevOpsInfrastructure) reads the GPU pool's image",
                opts=child,
            )
            gpu_pool = self._pool(
                f"{name}-gpu",
                args,
                project.id,
                args.gpu.pool_name,
                args.gpu.vm_size,
                args.gpu.max_concurrency,
                devopsinfrastructure.PoolImageArgs(resource_id=args.gpu.image_id),
                None,
                pulumi.ResourceOptions(parent=self, depends_on=[image_access]),
            )
            self.pool_ids["gpu-pool"] = gpu_pool.id
            self.gpu_pool_name = gpu_pool.name
            self.gpu_queue_id = self._queue(args, gpu_pool)
        self.register_outputs(
            {
                "pool_ids": self.pool_ids,
                "pool_name": self.pool_name,
                "queue_id": self.queue_id,
                "gpu_pool_name": self.gpu_pool_name,
                "gpu_queue_id": self.gpu_queue_id,
            }
        )

    @staticmethod
    def _pool(
        name: str,
        args: AgentsArgs,
        project_id: pulumi.Input[str],
        pool_name: str,
        vm_size: str,
        max_concurrency: int,
        image: devopsinfrastructure.PoolImageArgs,
        network_profile: devopsinfrastructure.NetworkProfileArgs | None,
        opts: pulumi.ResourceOptions,
    ) -> devopsinfrastructure.Pool:
        return devopsinfrastructure.Pool(
            f"{name}-pool",
            pool_name=pool_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dev_center_project_resource_id=project_id,
            maximum_concurrency=max_concurrency,
            agent_profile=devopsinfrastructure.StatelessAgentProfileArgs(kind=STATELESS),
            fabric_profile=devopsinfrastructure.VmssFabricProfileArgs(
                kind="Vmss",
                sku=devopsinfrastructure.DevOpsAzureSkuArgs(name=vm_size),
                images=[image],
                network_profile=network_profile,
            ),
            organization_profile=devopsinfrastructure.AzureDevOpsOrganizationProfileArgs(
                kind="AzureDevOps",
                # Listed projects only: the pool is not open to the organisation's other projects, and each
                # pipeline that uses it is authorised explicitly.
                organizations=[
                    devopsinfrastructure.OrganizationArgs(
                        url=args.devops_organization_url,
                        projects=[args.devops_project_name],
                        parallelism=max_concurrency,
                        open_access=False,
                    )
                ],
                permission_profile=devopsinfrastructure.AzureDevOpsPermissionProfileArgs(kind=CREATOR_ONLY),
            ),
            tags=dict(args.tags),
            opts=opts,
        )

    @staticmethod
    def _queue(args: AgentsArgs, pool: devopsinfrastructure.Pool) -> pulumi.Output[int]:
        """The project queue the service created for the pool: what pipeline authorizations name. An explicit
        azuredevops.Queue would try to add the pool to the project a second time."""
        queue = azuredevops.get_agent_queue_output(
            project_id=args.devops_project_id,
            name=pool.name,
            opts=pulumi.InvokeOutputOptions(depends_on=[pool]),
        )
        return queue.id.apply(int)
