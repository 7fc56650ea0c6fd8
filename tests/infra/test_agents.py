from collections.abc import Mapping
from typing import Any

import pytest

from infra.components.agents import Agents, AgentsArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve

KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 agents"


def build() -> Agents:
    return Agents(
        "agents",
        AgentsArgs(
            resource_group_name="rg-mlops-dev",
            location="westeurope",
            scale_set_name="vmss-mlops-dev-agents",
            pool_name="pool-mlops-dev-gpu",
            vm_size="Standard_NC4as_T4_v3",
            max_capacity=3,
            desired_idle=1,
            ssh_public_key=KEY,
            devops_project_id="project-id",
            service_endpoint_id="endpoint-id",
            tags=TAGS,
        ),
    )


def assert_scale_set_agent_shape(vmss: Mapping[str, Any]) -> None:
    assert vmss["sku"]["capacity"] == 0
    assert vmss["overprovision"] is False
    assert vmss["upgradePolicy"]["mode"] == "Manual"
    assert vmss["orchestrationMode"] == "Uniform"
    linux = vmss["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]
    assert linux["disablePasswordAuthentication"] is True
    assert "adminPassword" not in vmss["virtualMachineProfile"]["osProfile"]
    for nic in vmss["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"]:
        for ip in nic["ipConfigurations"]:
            assert "loadBalancerBackendAddressPools" not in ip
            assert "publicIPAddressConfiguration" not in ip


def test_scale_set_has_the_shape_azure_pipelines_requires(recorder: Recorder) -> None:
    resolve(lambda: build().scale_set_id)
    vmss = recorder.one("azure-native:compute:VirtualMachineScaleSet").inputs
    assert_scale_set_agent_shape(vmss)
    assert vmss["sku"]["name"] == "Standard_NC4as_T4_v3"
    keys = vmss["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"]
    assert [k["keyData"] for k in keys] == [KEY]
    subnet = vmss["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0][
        "ipConfigurations"
    ][0]
    assert subnet["subnet"]["id"].endswith("/subnets/agents")


def test_elastic_pool_sits_on_the_scale_set_with_configured_capacity(recorder: Recorder) -> None:
    resolve(lambda: build().queue_id)
    pool = recorder.one("azuredevops:index/elasticPool:ElasticPool").inputs
    assert pool["name"] == "pool-mlops-dev-gpu"
    assert pool["maxCapacity"] == 3 and pool["desiredIdle"] == 1
    assert pool["azureResourceId"].endswith("/vmss-mlops-dev-agents")
    assert pool["serviceEndpointId"] == "endpoint-id"
    queue = recorder.one("azuredevops:index/queue:Queue").inputs
    assert queue["projectId"] == "project-id"


def test_agents_subnet_has_explicit_outbound_and_no_inbound(recorder: Recorder) -> None:
    resolve(lambda: build().scale_set_id)
    (subnet,) = recorder.one("azure-native:network:VirtualNetwork").inputs["subnets"]
    assert subnet["defaultOutboundAccess"] is False
    assert subnet["natGateway"]["id"].endswith("/ng-vmss-mlops-dev-agents")
    rules = recorder.one("azure-native:network:NetworkSecurityGroup").inputs["securityRules"]
    assert any(r["direction"] == "Inbound" and r["access"] == "Deny" for r in rules)


def test_check_rejects_overprovisioning() -> None:
    with pytest.raises(AssertionError):
        assert_scale_set_agent_shape({"sku": {"capacity": 0}, "overprovision": True})
