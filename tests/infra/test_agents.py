from dataclasses import replace

import pytest

from infra import managed_devops_pools
from infra.components.agents import Agents, AgentsArgs, GpuPoolArgs
from infra.tools.mock_run import agent_queue_id, devops_project_id
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

POOL = managed_devops_pools.POOL
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev/providers"
VNET = f"{RG}/Microsoft.Network/virtualNetworks/vnet-mlops-dev"
SUBNET = f"{VNET}/subnets/agents"
IMAGE = f"{RG}/Microsoft.Compute/galleries/gal/images/ubuntu2404-cuda"
PRINCIPAL = "00000000-0000-0000-0000-0000000000f0"
NETWORK_ROLE = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/custom"
ARGS = AgentsArgs(
    resource_group_name="rg-mlops-dev",
    location="westeurope",
    subscription_id=SUBSCRIPTION,
    dev_center_name="dc-mlops-dev",
    dev_center_project_name="dcp-mlops-dev-agents",
    pool_name="pool-mlops-dev-1a2b",
    vm_size="Standard_D2ads_v5",
    max_concurrency=3,
    subnet_id=SUBNET,
    vnet_id=VNET,
    gpu=None,
    devops_organization_url="https://dev.azure.com/contoso",
    devops_project_name="ml-platform",
    devops_project_id=devops_project_id("ml-platform"),
    devops_infrastructure_principal_id=PRINCIPAL,
    network_role_definition_id=NETWORK_ROLE,
    tags=TAGS,
)
GPU = GpuPoolArgs("pool-mlops-dev-gpu-1a2b", "Standard_NC4as_T4_v3", 1, IMAGE)


def pool_named(recorder: Recorder, name: str):
    (pool,) = [p for p in recorder.of_type(POOL) if p.inputs["poolName"] == name]
    return pool


def test_environment_pool_runs_fresh_hosted_image_agents_in_the_subnet(recorder: Recorder) -> None:
    assert resolve(lambda: Agents("agents", ARGS).queue_id) == int(
        agent_queue_id(devops_project_id("ml-platform"), "pool-mlops-dev-1a2b")
    )
    pool = recorder.one(POOL).inputs
    assert pool["maximumConcurrency"] == 3
    # Stateless and no standby agents: a fresh agent per job, none while no job waits.
    assert pool["agentProfile"] == {"kind": "Stateless"}
    fabric = pool["fabricProfile"]
    assert fabric["sku"]["name"] == "Standard_D2ads_v5"
    assert [image.get("wellKnownImageName") for image in fabric["images"]] == ["ubuntu-24.04/latest"]
    assert fabric["networkProfile"]["subnetId"] == SUBNET
    (organization,) = pool["organizationProfile"]["organizations"]
    assert organization["url"] == "https://dev.azure.com/contoso"
    assert organization["projects"] == ["ml-platform"] and organization["openAccess"] is False
    assert pool["organizationProfile"]["permissionProfile"]["kind"] == "CreatorOnly"
    project = recorder.one("azure-native:devcenter:Project")
    assert pool["devCenterProjectResourceId"] == project.id
    assert recorder.one("azure-native:devcenter:Project").inputs["devCenterId"].endswith("/dc-mlops-dev")


def test_the_pool_waits_for_the_service_principals_rights_on_the_vnet(recorder: Recorder) -> None:
    resolve(lambda: Agents("agents", ARGS).pool_name)
    (network,) = recorder.of_type(ROLE_ASSIGNMENT)
    assert network.inputs["principalId"] == PRINCIPAL
    assert network.inputs["principalType"] == "ServicePrincipal"
    assert network.inputs["roleDefinitionId"] == NETWORK_ROLE and network.inputs["scope"] == VNET
    assert network.urn in recorder.one(POOL).dependencies


def test_without_a_gpu_image_there_is_one_pool(recorder: Recorder) -> None:
    assert resolve(lambda: Agents("agents", ARGS).gpu_pool_name) == ""
    assert len(recorder.of_type(POOL)) == 1


def test_the_gpu_pool_runs_the_gallery_image_outside_the_vnet(recorder: Recorder) -> None:
    queue = resolve(lambda: Agents("agents", replace(ARGS, gpu=GPU)).gpu_queue_id)
    assert queue == int(agent_queue_id(devops_project_id("ml-platform"), GPU.pool_name))
    gpu = pool_named(recorder, GPU.pool_name)
    fabric = gpu.inputs["fabricProfile"]
    assert fabric["sku"]["name"] == "Standard_NC4as_T4_v3"
    assert [image["resourceId"] for image in fabric["images"]] == [IMAGE]
    # A delegated subnet serves one pool: the GPU pool's agents stay on the service's network.
    assert "networkProfile" not in fabric
    (reader,) = [r for r in recorder.of_type(ROLE_ASSIGNMENT) if r.inputs["scope"] == IMAGE]
    assert reader.inputs["roleDefinitionId"].endswith("/acdd72a7-3385-48ef-bd42-f606fba81ae7")
    assert reader.urn in gpu.dependencies


def test_a_pool_that_does_not_list_the_project_has_no_queue_there(recorder: Recorder) -> None:
    # Managed DevOps Pools creates queues only in the projects it lists; the provider's lookup then fails.
    with pytest.raises(Exception, match="Unable to find agent queues with name: pool-mlops-dev-1a2b"):
        resolve(lambda: Agents("agents", replace(ARGS, devops_project_name="other")).queue_id)
