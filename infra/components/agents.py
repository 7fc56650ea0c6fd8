"""GPU build agents: a VM scale set in the shape Azure Pipelines scale-set agents need, and its pool."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops
from pulumi_azure_native import compute

from infra.components import TYPE_PREFIX

ADMIN_USER = "azdevops"
# Ubuntu HPC images ship the NVIDIA driver and CUDA, so jobs with `demands: cuda` run on a fresh node.
AGENT_IMAGE = compute.ImageReferenceArgs(
    publisher="microsoft-dsvm", offer="ubuntu-hpc", sku="2204", version="latest"
)


@dataclass(frozen=True)
class AgentsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    scale_set_name: str
    pool_name: str
    vm_size: str
    max_capacity: int
    desired_idle: int
    ssh_public_key: str
    # The environment's agents subnet: outbound through its NAT gateway, nothing inbound, and a route to
    # every private endpoint of the environment.
    subnet_id: pulumi.Input[str]
    devops_project_id: pulumi.Input[str]
    service_endpoint_id: pulumi.Input[str]
    tags: Mapping[str, str]


class Agents(pulumi.ComponentResource):
    scale_set_id: pulumi.Output[str]
    pool_id: pulumi.Output[int]
    queue_id: pulumi.Output[int]
    pool_name: pulumi.Output[str]

    def __init__(self, name: str, args: AgentsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Agents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        scale_set = compute.VirtualMachineScaleSet(
            f"{name}-vmss",
            vm_scale_set_name=args.scale_set_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            # Azure DevOps owns the capacity: it starts at 0 and the service scales it; Uniform
            # orchestration, no overprovisioning and manual upgrades are what the service supports.
            sku=compute.SkuArgs(name=args.vm_size, tier="Standard", capacity=0),
            orchestration_mode="Uniform",
            overprovision=False,
            single_placement_group=False,
            platform_fault_domain_count=1,
            upgrade_policy=compute.UpgradePolicyArgs(mode="Manual"),
            virtual_machine_profile=compute.VirtualMachineScaleSetVMProfileArgs(
                os_profile=compute.VirtualMachineScaleSetOSProfileArgs(
                    computer_name_prefix="agent",
                    admin_username=ADMIN_USER,
                    linux_configuration=compute.LinuxConfigurationArgs(
                        disable_password_authentication=True,
                        ssh=compute.SshConfigurationArgs(
                            public_keys=[
                                compute.SshPublicKeyArgs(
                                    path=f"/home/{ADMIN_USER}/.ssh/authorized_keys",
                                    key_data=args.ssh_public_key,
                                )
                            ]
                        ),
                    ),
                ),
                storage_profile=compute.VirtualMachineScaleSetStorageProfileArgs(
                    image_reference=AGENT_IMAGE,
                    os_disk=compute.VirtualMachineScaleSetOSDiskArgs(
                        create_option="FromImage",
                        caching="ReadOnly",
                        disk_size_gb=128,
                        managed_disk=compute.VirtualMachineScaleSetManagedDiskParametersArgs(
                            storage_account_type="Premium_LRS"
                        ),
                    ),
                ),
                # No load balancer and no public IP: the agents only dial out to Azure DevOps.
                network_profile=compute.VirtualMachineScaleSetNetworkProfileArgs(
                    network_interface_configurations=[
                        compute.VirtualMachineScaleSetNetworkConfigurationArgs(
                            name="agents",
                            primary=True,
                            ip_configurations=[
                                compute.VirtualMachineScaleSetIPConfigurationArgs(
                                    name="agents",
                                    primary=True,
                                    subnet=compute.ApiEntityReferenceArgs(id=args.subnet_id),
                                )
                            ],
                        )
                    ]
                ),
            ),
            tags=tags,
            # Azure DevOps scales the set and installs its agent extension; Pulumi must not undo either.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["sku.capacity", "virtualMachineProfile.extensionProfile"]
            ),
        )
        pool = azuredevops.ElasticPool(
            f"{name}-pool",
            name=args.pool_name,
            service_endpoint_id=args.service_endpoint_id,
            service_endpoint_scope=args.devops_project_id,
            azure_resource_id=scale_set.id,
            desired_idle=args.desired_idle,
            max_capacity=args.max_capacity,
            # A fresh VM for every job ("Automatically tear down virtual machines after every use",
            # azure-devops-docs pipelines/agents/scale-set-agents.md): the platform's pull requests preview
            # on this pool with the PR's own code, which must leave nothing behind for the next job.
            recycle_after_each_use=True,
            time_to_live_minutes=30,
            auto_provision=False,
            auto_update=True,
            opts=child,
        )
        queue = azuredevops.Queue(
            f"{name}-queue",
            project_id=args.devops_project_id,
            agent_pool_id=pool.id.apply(int),
            opts=child,
        )
        self.scale_set_id = scale_set.id
        self.pool_id = pool.id.apply(int)
        self.queue_id = queue.id.apply(int)
        self.pool_name = pool.name
        self.register_outputs(
            {
                "scale_set_id": self.scale_set_id,
                "pool_id": self.pool_id,
                "queue_id": self.queue_id,
                "pool_name": self.pool_name,
            }
        )
