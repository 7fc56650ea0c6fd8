"""The environment's virtual network: the subnet of its Managed DevOps Pool's agents always; with network
isolation also the subnets of the private endpoints, the ACR Tasks agents and the AKS nodes, and the private
DNS zones that resolve the private endpoints' names inside it."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, privatedns

from infra import address_plan, managed_devops_pools
from infra.components import TYPE_PREFIX

# Private DNS zones and their VNet links are global resources
# (learn.microsoft.com/azure/dns/private-dns-privatednszone).
GLOBAL = "global"


@dataclass(frozen=True)
class NetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    vnet_name: str
    nat_gateway_name: str
    nat_public_ip_name: str
    security_group_name: str
    address_space: str
    isolated: bool
    # Zones to create and link to the VNet (infra.private_link.zones()); empty when not isolated.
    private_dns_zones: Sequence[str]
    tags: Mapping[str, str]


class Network(pulumi.ComponentResource):
    vnet_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[dict[str, str]]
    zone_ids: dict[str, pulumi.Output[str]]
    nat_public_ip_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        # Agents and ACR Tasks need outbound internet (Azure DevOps, package feeds, base images) and nothing
        # inbound: a NAT gateway gives explicit outbound now that Azure retires default outbound access.
        outbound_ip = network.PublicIPAddress(
            f"{name}-nat-ip",
            public_ip_address_name=args.nat_public_ip_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=network.PublicIPAddressSkuArgs(name="Standard"),
            public_ip_allocation_method="Static",
            tags=tags,
            opts=child,
        )
        nat = network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=args.nat_gateway_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=network.NatGatewaySkuArgs(name="Standard"),
            public_ip_addresses=[network.SubResourceArgs(id=outbound_ip.id)],
            tags=tags,
            opts=child,
        )
        security_group = network.NetworkSecurityGroup(
            f"{name}-nsg",
            network_security_group_name=args.security_group_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            security_rules=[
                network.SecurityRuleArgs(
                    name="deny-internet-inbound",
                    priority=4000,
                    direction="Inbound",
                    access="Deny",
                    protocol="*",
                    source_address_prefix="Internet",
                    source_port_range="*",
                    destination_address_prefix="*",
                    destination_port_range="*",
                )
            ],
            tags=tags,
            opts=child,
        )
        cidrs = address_plan.subnets(args.address_space)
        nat_ref = network.SubResourceArgs(id=nat.id)
        nsg_ref = network.NetworkSecurityGroupArgs(id=security_group.id)
        subnets = [
            network.SubnetArgs(
                name=address_plan.AGENTS,
                address_prefix=cidrs[address_plan.AGENTS],
                nat_gateway=nat_ref,
                network_security_group=nsg_ref,
                default_outbound_access=False,
                # Managed DevOps Pools injects its agents only into a subnet delegated to it, and that subnet
                # then serves the one pool (configure-networking.md).
                delegations=[
                    network.DelegationArgs(
                        name="managed-devops-pools", service_name=managed_devops_pools.SUBNET_DELEGATION
                    )
                ],
            )
        ]
        if args.isolated:
            subnets += [
                network.SubnetArgs(
                    name=address_plan.PRIVATE_ENDPOINTS,
                    address_prefix=cidrs[address_plan.PRIVATE_ENDPOINTS],
                    network_security_group=nsg_ref,
                    # Network policies on: the subnet's security group applies to the private endpoints too.
                    private_endpoint_network_policies="Enabled",
                    default_outbound_access=False,
                ),
                network.SubnetArgs(
                    name=address_plan.ACR_TASKS,
                    address_prefix=cidrs[address_plan.ACR_TASKS],
                    nat_gateway=nat_ref,
                    network_security_group=nsg_ref,
                    default_outbound_access=False,
                ),
                # AKS attaches its own security group to the nodes' NICs and routes egress through its
                # load balancer; a subnet-level group would also have to admit its ingress.
                network.SubnetArgs(
                    name=address_plan.AKS_NODES,
                    address_prefix=cidrs[address_plan.AKS_NODES],
                    default_outbound_access=False,
                ),
            ]
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.vnet_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            subnets=subnets,
            tags=tags,
            opts=child,
        )
        self.zone_ids = {}
        for zone_name in args.private_dns_zones:
            logical = zone_name.replace(".", "-")
            zone = privatedns.PrivateZone(
                f"{name}-{logical}",
                private_zone_name=zone_name,
                resource_group_name=args.resource_group_name,
                location=GLOBAL,
                tags=tags,
                opts=child,
            )
            # Without a link the VNet's resolver never asks the zone and the names stay public.
            privatedns.VirtualNetworkLink(
                f"{name}-{logical}-link",
                virtual_network_link_name=args.vnet_name,
                private_zone_name=zone.name,
                resource_group_name=args.resource_group_name,
                location=GLOBAL,
                virtual_network=privatedns.SubResourceArgs(id=vnet.id),
                registration_enabled=False,
                tags=tags,
                opts=child,
            )
            self.zone_ids[zone_name] = zone.id
        self.vnet_id = vnet.id
        self.subnet_ids = vnet.subnets.apply(
            lambda declared: {subnet.name: subnet.id for subnet in declared or []}
        )
        self.nat_public_ip_id = outbound_ip.id
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "subnet_ids": self.subnet_ids,
                "zone_ids": self.zone_ids,
                "nat_public_ip_id": self.nat_public_ip_id,
                "security_group_id": self.security_group_id,
            }
        )
