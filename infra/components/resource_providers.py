"""Resource provider registration in the subscriptions the platform deploys to.

azure-native has no resource for a registration, so the administrator's Azure CLI does it, once per
subscription, during the bootstrap (`az provider register --wait` is idempotent). The namespaces are the
command's triggers: adding one registers again.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_command import local

from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class ResourceProvidersArgs:
    subscription_ids: Sequence[str]
    namespaces: Sequence[str]


class ResourceProviders(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ResourceProvidersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ResourceProviders", name, None, opts)
        for subscription in sorted(set(args.subscription_ids)):
            namespaces = " ".join(args.namespaces)
            local.Command(
                f"{name}-{subscription}",
                create=(
                    f"for namespace in {namespaces}; do "
                    f'az provider register --namespace "$namespace" --subscription {subscription} --wait; '
                    "done"
                ),
                triggers=[subscription, *args.namespaces],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
