from collections.abc import Mapping
from typing import Any

import pytest

from infra import address_plan, private_link
from infra.components.network import Network, NetworkArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve


def build(isolated: bool) -> Network:
    return Network(
        "network",
        NetworkArgs(
            resource_group_name="rg-mlops-dev",
            location="westeurope",
            vnet_name="vnet-mlops-dev",
            nat_gateway_name="ng-mlops-dev",
            nat_public_ip_name="pip-mlops-dev-nat",
            security_group_name="nsg-mlops-dev",
            address_space="10.60.0.0/22",
            isolated=isolated,
            private_dns_zones=private_link.zones() if isolated else (),
            tags=TAGS,
        ),
    )


def assert_no_inbound_from_internet(subnet: Mapping[str, Any], security_group_id: str) -> None:
    assert subnet["defaultOutboundAccess"] is False
    assert subnet["networkSecurityGroup"]["id"] == security_group_id


def test_without_isolation_only_the_agents_subnet_exists_with_explicit_outbound(recorder: Recorder) -> None:
    network = build(isolated=False)
    ids, security_group_id = resolve(lambda: (network.subnet_ids, network.security_group_id))
    vnet = recorder.one("azure-native:network:VirtualNetwork").inputs
    assert vnet["addressSpace"] == {"addressPrefixes": ["10.60.0.0/22"]}
    (agents,) = vnet["subnets"]
    assert agents["name"] == address_plan.AGENTS and agents["addressPrefix"] == "10.60.0.0/24"
    assert_no_inbound_from_internet(agents, security_group_id)
    nsg = recorder.one("azure-native:network:NetworkSecurityGroup")
    assert agents["natGateway"]["id"].endswith("/ng-mlops-dev")
    # Managed DevOps Pools injects agents only into a subnet delegated to it.
    assert [d["serviceName"] for d in agents["delegations"]] == ["Microsoft.DevOpsInfrastructure/pools"]
    assert set(ids) == {address_plan.AGENTS}
    assert recorder.of_type(private_link.PRIVATE_ZONE) == []
    rules = nsg.inputs["securityRules"]
    assert [(r["direction"], r["access"], r["sourceAddressPrefix"]) for r in rules] == [
        ("Inbound", "Deny", "Internet")
    ]


def test_isolation_adds_endpoint_tasks_and_node_subnets(recorder: Recorder) -> None:
    ids = resolve(lambda: build(isolated=True).subnet_ids)
    subnets = {s["name"]: s for s in recorder.one("azure-native:network:VirtualNetwork").inputs["subnets"]}
    assert {name: s["addressPrefix"] for name, s in subnets.items()} == address_plan.subnets("10.60.0.0/22")
    assert set(ids) == set(address_plan.SUBNETS)
    endpoints = subnets[address_plan.PRIVATE_ENDPOINTS]
    # With network policies on, the subnet's security group filters traffic to the endpoints too.
    assert endpoints["privateEndpointNetworkPolicies"] == "Enabled"
    assert "natGateway" not in endpoints
    assert "natGateway" in subnets[address_plan.ACR_TASKS]
    assert "networkSecurityGroup" not in subnets[address_plan.AKS_NODES]


def test_each_zone_is_global_and_linked_to_the_vnet_without_registration(recorder: Recorder) -> None:
    network = build(isolated=True)
    zone_ids = resolve(lambda: network.zone_ids)
    zones = recorder.of_type(private_link.PRIVATE_ZONE)
    assert sorted(z.inputs["privateZoneName"] for z in zones) == list(private_link.zones())
    assert set(zone_ids) == set(private_link.zones())
    links = recorder.of_type(private_link.VIRTUAL_NETWORK_LINK)
    assert sorted(link.inputs["privateZoneName"] for link in links) == list(private_link.zones())
    for resource in (*zones, *links):
        assert resource.inputs["location"] == "global"
    for link in links:
        assert link.inputs["registrationEnabled"] is False
        assert link.inputs["virtualNetwork"]["id"].endswith("/vnet-mlops-dev")


@pytest.mark.parametrize(
    ("space", "rule"),
    [
        ("10.60.0.0/23", "/22 or larger"),
        ("8.8.8.0/22", "private IPv4"),
        ("10.0.0.0/8", "overlaps AKS's range"),
        ("10.244.0.0/22", "overlaps AKS's range 10.244.0.0/16"),
        ("not-a-cidr", "IPv4 network"),
    ],
)
def test_address_plan_refuses_what_cannot_hold_the_subnets(space: str, rule: str) -> None:
    with pytest.raises(address_plan.AddressPlanError, match=rule):
        address_plan.subnets(space)


def test_check_rejects_a_subnet_open_to_default_outbound() -> None:
    with pytest.raises(AssertionError):
        assert_no_inbound_from_internet(
            {"defaultOutboundAccess": True, "networkSecurityGroup": {"id": "n"}}, "n"
        )
