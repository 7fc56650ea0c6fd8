"""Azure Container Registry of one environment: where project images are built (`az acr build`)."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry

from infra import naming
from infra.components import TYPE_PREFIX
from infra.private_link import DISABLED, ENABLED

# The smallest pool tier (2 vCPU, 3 GiB); a task queued on a pool needs at least one instance
# (learn.microsoft.com/azure/container-registry/tasks-agent-pools).
TASKS_POOL_TIER = "S1"
TASKS_POOL_COUNT = 1


@dataclass(frozen=True)
class RegistryArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    registry_name: str
    sku: str
    # Private: no public endpoint, and image builds (`az acr build`) run on an ACR Tasks agent pool in this
    # subnet, because the service's shared build machines reach registries over the public endpoint only.
    tasks_subnet_id: pulumi.Input[str] | None
    tags: Mapping[str, str]


class Registry(pulumi.ComponentResource):
    registry_id: pulumi.Output[str]
    registry_name: pulumi.Output[str]
    login_server: pulumi.Output[str]
    tasks_pool_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Registry", name, None, opts)
        private = args.tasks_subnet_id is not None
        registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=args.registry_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=containerregistry.SkuArgs(name=args.sku),
            # Pushes and pulls go through Entra ID identities (AcrPush for pipelines, AcrPull for the
            # AKS kubelet), so neither the shared admin password nor anonymous pull is needed.
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access=DISABLED if private else ENABLED,
            # Trusted Azure services (ACR's own import from the environment before, Azure ML) still reach a
            # registry whose public access is off (container-registry/allow-access-trusted-services.md);
            # "AzureServices" is ARM's default, stated so a later change shows in the plan.
            network_rule_bypass_options="AzureServices",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tasks_pool_name = None
        if private:
            # Agent pools are in preview (Premium only; West Europe is among their regions).
            pool = containerregistry.AgentPool(
                f"{name}-tasks-pool",
                agent_pool_name=naming.ACR_TASKS_POOL,
                registry_name=registry.name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                os="Linux",
                tier=TASKS_POOL_TIER,
                count=TASKS_POOL_COUNT,
                virtual_network_subnet_resource_id=args.tasks_subnet_id,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.tasks_pool_name = pool.name
        self.registry_id = registry.id
        self.registry_name = registry.name
        self.login_server = registry.login_server
        self.register_outputs(
            {
                "registry_id": self.registry_id,
                "registry_name": self.registry_name,
                "login_server": self.login_server,
                "tasks_pool_name": self.tasks_pool_name,
            }
        )
