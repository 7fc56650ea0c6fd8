"""Azure Container Registry of one environment: where project images are built (`az acr build`)."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry

from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class RegistryArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    registry_name: str
    sku: str
    tags: Mapping[str, str]


class Registry(pulumi.ComponentResource):
    registry_id: pulumi.Output[str]
    registry_name: pulumi.Output[str]
    login_server: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Registry", name, None, opts)
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
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.registry_id = registry.id
        self.registry_name = registry.name
        self.login_server = registry.login_server
        self.register_outputs(
            {
                "registry_id": self.registry_id,
                "registry_name": self.registry_name,
                "login_server": self.login_server,
            }
        )
