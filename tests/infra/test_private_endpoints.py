import re
from collections.abc import Mapping
from typing import Any

import pytest

from infra import private_link
from infra.components.private_endpoints import PrivateEndpoints, PrivateEndpointsArgs, PrivateEndpointTarget
from infra.policies.azure import ML_WORKSPACE, STORAGE_ACCOUNT
from tests.infra.component_mocks import TAGS, Recorder, resolve

SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/pe"
ZONES = {zone: f"/zones/{zone}" for zone in private_link.zones()}
STORAGE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
WORKSPACE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw"


def build(zone_ids: Mapping[str, str] = ZONES) -> PrivateEndpoints:
    return PrivateEndpoints(
        "private-endpoints",
        PrivateEndpointsArgs(
            resource_group_name="rg-mlops-qa",
            location="westeurope",
            subnet_id=SUBNET,
            zone_ids=zone_ids,
            targets=[
                *(
                    PrivateEndpointTarget("st1", STORAGE_ID, g)
                    for g in private_link.PRIVATE_LINK_GROUPS[STORAGE_ACCOUNT]
                ),
                *(
                    PrivateEndpointTarget("mlw", WORKSPACE_ID, g)
                    for g in private_link.PRIVATE_LINK_GROUPS[ML_WORKSPACE]
                ),
            ],
            tags=TAGS,
        ),
    )


def assert_targets(endpoint: Mapping[str, Any], resource_id: str, group_id: str) -> None:
    (connection,) = endpoint["privateLinkServiceConnections"]
    assert connection["privateLinkServiceId"] == resource_id
    assert connection["groupIds"] == [group_id]
    assert endpoint["subnet"]["id"] == SUBNET


def test_one_endpoint_per_sub_resource_in_the_endpoint_subnet(recorder: Recorder) -> None:
    ids = resolve(lambda: build().endpoint_ids)
    assert set(ids) == {"blob", "file", "amlworkspace"}
    endpoints = {
        e.inputs["privateEndpointName"]: e.inputs for e in recorder.of_type(private_link.PRIVATE_ENDPOINT)
    }
    assert set(endpoints) == {"pe-st1-blob", "pe-st1-file", "pe-mlw-amlworkspace"}
    assert_targets(endpoints["pe-st1-blob"], STORAGE_ID, "blob")
    assert_targets(endpoints["pe-st1-file"], STORAGE_ID, "file")
    assert_targets(endpoints["pe-mlw-amlworkspace"], WORKSPACE_ID, "amlworkspace")
    assert endpoints["pe-st1-blob"]["customNetworkInterfaceName"] == "pe-st1-blob-nic"


def test_each_endpoint_registers_its_names_in_its_zones(recorder: Recorder) -> None:
    resolve(lambda: build().endpoint_ids)
    groups = {
        g.inputs["privateEndpointName"]: g.inputs
        for g in recorder.of_type(private_link.PRIVATE_DNS_ZONE_GROUP)
    }
    assert [c["privateDnsZoneId"] for c in groups["pe-mlw-amlworkspace"]["privateDnsZoneConfigs"]] == [
        "/zones/privatelink.api.azureml.ms",
        "/zones/privatelink.notebooks.azure.net",
    ]
    assert [c["privateDnsZoneId"] for c in groups["pe-st1-file"]["privateDnsZoneConfigs"]] == [
        "/zones/privatelink.file.core.windows.net"
    ]


def test_a_zone_the_network_lacks_stops_the_program(recorder: Recorder) -> None:
    without_file = {zone: zone_id for zone, zone_id in ZONES.items() if ".file." not in zone}
    with pytest.raises(
        ValueError, match=re.escape("pe-st1-file: no private DNS zone privatelink.file.core.windows.net")
    ):
        build(without_file)


def test_check_rejects_an_endpoint_to_the_wrong_sub_resource() -> None:
    with pytest.raises(AssertionError):
        assert_targets(
            {
                "privateLinkServiceConnections": [
                    {"privateLinkServiceId": STORAGE_ID, "groupIds": ["table"]}
                ],
                "subnet": {"id": SUBNET},
            },
            STORAGE_ID,
            "blob",
        )
