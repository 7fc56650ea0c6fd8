"""How an environment's VNet is cut into subnets, and the ranges AKS keeps for itself: pure functions."""

import ipaddress
from typing import Final

# In this order, the first /24s of the VNet's address space.
AGENTS: Final = "agents"
PRIVATE_ENDPOINTS: Final = "private-endpoints"
ACR_TASKS: Final = "acr-tasks"
AKS_NODES: Final = "aks-nodes"
SUBNETS: Final = (AGENTS, PRIVATE_ENDPOINTS, ACR_TASKS, AKS_NODES)
SUBNET_PREFIX_LENGTH: Final = 24
# The smallest address space that holds every subnet.
MAX_PREFIX_LENGTH: Final = SUBNET_PREFIX_LENGTH - (len(SUBNETS) - 1).bit_length()

# AKS's default pod (overlay) and service ranges; nodes in the VNet must not overlap them
# (learn.microsoft.com/azure/aks/azure-cni-overlay#ip-address-planning).
AKS_POD_CIDR: Final = "10.244.0.0/16"
AKS_SERVICE_CIDR: Final = "10.0.0.0/16"
AKS_DNS_SERVICE_IP: Final = "10.0.0.10"


class AddressPlanError(ValueError):
    """The address space cannot hold the subnets."""


def check(address_space: str) -> ipaddress.IPv4Network:
    """The address space as a network, or AddressPlanError naming the rule it breaks."""
    try:
        space = ipaddress.ip_network(address_space)
    except ValueError:
        raise AddressPlanError("must be an IPv4 network such as 10.60.0.0/22") from None
    if not isinstance(space, ipaddress.IPv4Network) or not space.is_private:
        raise AddressPlanError("must be a private IPv4 range")
    if space.prefixlen > MAX_PREFIX_LENGTH:
        raise AddressPlanError(f"must be /{MAX_PREFIX_LENGTH} or larger to hold {len(SUBNETS)} /24 subnets")
    for reserved in (AKS_POD_CIDR, AKS_SERVICE_CIDR):
        if space.overlaps(ipaddress.ip_network(reserved)):
            raise AddressPlanError(f"overlaps AKS's range {reserved}")
    return space


def subnets(address_space: str) -> dict[str, str]:
    """Subnet name -> CIDR: the first /24s of the space, in the order of SUBNETS."""
    space = check(address_space)
    cut = space.subnets(new_prefix=SUBNET_PREFIX_LENGTH)
    return {name: str(next(cut)) for name in SUBNETS}
