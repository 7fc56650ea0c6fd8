"""Private endpoints of an isolated environment: one per target sub-resource, its name registered in the
private DNS zones the VNet resolves, so clients in the VNet reach the resource's usual host name privately."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from infra import naming
from infra.components import TYPE_PREFIX
from infra.private_link import PrivateLinkGroup


@dataclass(frozen=True)
class PrivateEndpointTarget:
    resource_name: str
    resource_id: pulumi.Input[str]
    group: PrivateLinkGroup


@dataclass(frozen=True)
class PrivateEndpointsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subnet_id: pulumi.Input[str]
    # Zone name -> id, holding at least every zone of every target's group.
    zone_ids: Mapping[str, pulumi.Input[str]]
    targets: Sequence[PrivateEndpointTarget]
    tags: Mapping[str, str]


class PrivateEndpoints(pulumi.ComponentResource):
    endpoint_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: PrivateEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:PrivateEndpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.endpoint_ids = {}
        for target in args.targets:
            endpoint_name = naming.private_endpoint(target.resource_name, target.group.group_id)
            missing = [zone for zone in target.group.zones if zone not in args.zone_ids]
            if missing:
                raise ValueError(f"{endpoint_name}: no private DNS zone {', '.join(missing)} in this network")
            endpoint = network.PrivateEndpoint(
                f"{name}-{target.group.group_id}",
                private_endpoint_name=endpoint_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                subnet=network.SubnetArgs(id=args.subnet_id),
                custom_network_interface_name=f"{endpoint_name}-nic",
                private_link_service_connections=[
                    network.PrivateLinkServiceConnectionArgs(
                        name=endpoint_name,
                        private_link_service_id=target.resource_id,
                        group_ids=[target.group.group_id],
                    )
                ],
                tags=dict(args.tags),
                opts=child,
            )
            # The zone group writes the endpoint's A records into the zones and keeps them current.
            network.PrivateDnsZoneGroup(
                f"{name}-{target.group.group_id}-dns",
                private_dns_zone_group_name="default",
                private_endpoint_name=endpoint.name,
                resource_group_name=args.resource_group_name,
                private_dns_zone_configs=[
                    network.PrivateDnsZoneConfigArgs(
                        name=zone.replace(".", "-"), private_dns_zone_id=args.zone_ids[zone]
                    )
                    for zone in target.group.zones
                ],
                opts=child,
            )
            self.endpoint_ids[target.group.group_id] = endpoint.id
        self.register_outputs({"endpoint_ids": self.endpoint_ids})
