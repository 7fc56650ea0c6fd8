from collections.abc import Mapping
from typing import Any

import pytest

from infra import roles
from infra.components.ml_workspace import ComputeClusterSpec, MlWorkspace, MlWorkspaceArgs
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve


def build(private: bool = False) -> MlWorkspace:
    return MlWorkspace(
        "ml",
        MlWorkspaceArgs(
            resource_group_name="rg-mlops-dev",
            location="westeurope",
            workspace_name="mlw-mlops-dev",
            storage_account_name="stmlopsdev1a2b",
            dvc_container_name="dvc",
            key_vault_id="/kv",
            registry_id="/acr",
            app_insights_id="/appi",
            clusters=(
                ComputeClusterSpec("cpu-cluster", "Standard_DS3_v2", 4),
                ComputeClusterSpec("gpu-cluster", "Standard_NC4as_T4_v3", 2),
            ),
            subscription_id=SUBSCRIPTION,
            compute_identity_name="id-mlops-dev-ml-compute",
            private=private,
            tags=TAGS,
        ),
    )


def assert_scales_to_zero(compute: Mapping[str, Any]) -> None:
    scale = compute["properties"]["properties"]["scaleSettings"]
    assert scale["minNodeCount"] == 0
    assert scale["maxNodeCount"] >= 1


def test_storage_is_tls12_https_only_without_public_blobs(recorder: Recorder) -> None:
    resolve(lambda: build().storage_account_name)
    account = recorder.one("azure-native:storage:StorageAccount").inputs
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    container = recorder.one("azure-native:storage:BlobContainer").inputs
    assert container["publicAccess"] == "None"


def test_workspace_has_system_identity_and_is_linked(recorder: Recorder) -> None:
    principal = resolve(lambda: build().workspace_principal_id)
    workspace = recorder.one("azure-native:machinelearningservices:Workspace").inputs
    assert workspace["identity"]["type"] == "SystemAssigned"
    assert workspace["keyVault"] == "/kv"
    assert workspace["containerRegistry"] == "/acr"
    assert workspace["applicationInsights"] == "/appi"
    assert workspace["storageAccount"].endswith("/stmlopsdev1a2b")
    assert principal == "mlw-mlops-dev-principal-id"


def test_cpu_and_gpu_clusters_scale_from_zero(recorder: Recorder) -> None:
    resolve(lambda: build().workspace_name)
    clusters = {
        c.inputs["computeName"]: c.inputs
        for c in recorder.of_type("azure-native:machinelearningservices:Compute")
    }
    assert set(clusters) == {"cpu-cluster", "gpu-cluster"}
    for cluster in clusters.values():
        assert_scales_to_zero(cluster)
        assert cluster["workspaceName"] == "mlw-mlops-dev"
    assert clusters["gpu-cluster"]["properties"]["properties"]["vmSize"] == "Standard_NC4as_T4_v3"


def test_clusters_reach_storage_as_their_identity_once_it_holds_its_role(recorder: Recorder) -> None:
    resolve(lambda: build().compute_identity_principal_id)
    identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity")
    (grant,) = recorder.of_type("azure-native:authorization:RoleAssignment")
    assert grant.inputs["roleDefinitionId"].endswith(roles.guid(roles.STORAGE_BLOB_DATA_CONTRIBUTOR))
    assert grant.inputs["principalId"] == "id-mlops-dev-ml-compute-principal-id"
    assert grant.inputs["scope"].endswith("/stmlopsdev1a2b")
    for cluster in recorder.of_type("azure-native:machinelearningservices:Compute"):
        assert cluster.inputs["identity"]["type"] == "UserAssigned"
        (attached,) = cluster.inputs["identity"]["userAssignedIdentities"]
        assert attached.endswith(f"/{identity.inputs['resourceName']}")
        assert grant.urn in cluster.dependencies


@pytest.mark.parametrize(("private", "access"), [(False, "Enabled"), (True, "Disabled")])
def test_workspace_and_storage_state_their_public_access(
    recorder: Recorder, private: bool, access: str
) -> None:
    resolve(lambda: build(private).workspace_id)
    account = recorder.one("azure-native:storage:StorageAccount").inputs
    workspace = recorder.one("azure-native:machinelearningservices:Workspace").inputs
    assert account["publicNetworkAccess"] == access == workspace["publicNetworkAccess"]
    assert account["networkRuleSet"]["defaultAction"] == ("Deny" if private else "Allow")
    # A private registry cannot build images itself: the CPU cluster in the managed network does.
    assert workspace.get("imageBuildCompute") == ("cpu-cluster" if private else None)
    assert workspace["managedNetwork"]["isolationMode"] == "AllowInternetOutbound"


def test_check_rejects_a_cluster_that_keeps_a_node() -> None:
    with pytest.raises(AssertionError):
        assert_scales_to_zero(
            {"properties": {"properties": {"scaleSettings": {"minNodeCount": 1, "maxNodeCount": 2}}}}
        )
