from collections.abc import Mapping
from typing import Any

import pytest

from infra import address_plan, gitops, naming, roles
from infra.components.aks import Aks, AksArgs
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

NODE_SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/aks"


def build(node_subnet_id: str | None = None) -> Aks:
    return Aks(
        "aks",
        AksArgs(
            resource_group_name="rg-mlops-dev",
            location="westeurope",
            environment="dev",
            cluster_name="aks-mlops-dev",
            node_resource_group="rg-mlops-dev-aks-nodes",
            kubernetes_version="1.33",
            system_vm_size="Standard_D4ds_v5",
            system_min=1,
            system_max=3,
            gpu_vm_size="Standard_NC4as_T4_v3",
            gpu_max=2,
            tenant_id="tenant",
            subscription_id=SUBSCRIPTION,
            registry_id="/subscriptions/s/resourceGroups/rg-mlops-dev/providers/Microsoft.ContainerRegistry/registries/cr",
            log_analytics_workspace_id="/log",
            node_subnet_id=node_subnet_id,
            control_plane_identity_name="id-mlops-dev-aks",
            flux_client_id="flux-client-id",
            tags=TAGS,
        ),
    )


def assert_gpu_pool_scales_from_zero(pool: Mapping[str, Any]) -> None:
    assert pool["enableAutoScaling"] is True
    assert pool["minCount"] == 0
    assert pool["count"] == 0
    assert pool["maxCount"] >= 1
    assert naming.GPU_TAINT in pool["nodeTaints"]


def test_cluster_is_entra_only_with_workload_identity(recorder: Recorder) -> None:
    issuer = resolve(lambda: build().oidc_issuer_url)
    cluster = recorder.one("azure-native:containerservice:ManagedCluster").inputs
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert cluster["disableLocalAccounts"] is True
    assert cluster["aadProfile"]["managed"] is True and cluster["aadProfile"]["enableAzureRBAC"] is True
    assert cluster["networkProfile"]["networkPolicy"] == "cilium"
    assert issuer.startswith("https://") and "aks-mlops-dev" in issuer


def test_gpu_pool_autoscales_from_zero_with_taint_and_label(recorder: Recorder) -> None:
    resolve(lambda: build().cluster_name)
    pool = recorder.one("azure-native:containerservice:AgentPool").inputs
    assert_gpu_pool_scales_from_zero(pool)
    assert pool["mode"] == "User"
    assert pool["maxCount"] == 2
    assert pool["nodeLabels"] == dict([naming.GPU_NODE_LABEL])
    assert pool["resourceName"] == "aks-mlops-dev"
    system = recorder.one("azure-native:containerservice:ManagedCluster").inputs["agentPoolProfiles"]
    assert [p["mode"] for p in system] == ["System"]


def test_kubelet_identity_gets_acr_pull_on_the_registry(recorder: Recorder) -> None:
    resolve(lambda: build().cluster_id)
    (assignment,) = recorder.of_type("azure-native:authorization:RoleAssignment")  # public: AcrPull only
    assert assignment.inputs["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")
    assert assignment.inputs["principalId"] == "aks-mlops-dev-kubelet-object-id"
    assert assignment.inputs["scope"].endswith("/registries/cr")


def test_flux_extension_federates_source_controller_with_the_flux_identity(recorder: Recorder) -> None:
    extension_id = resolve(lambda: build().flux_extension_id)
    extension = recorder.one("azure-native:kubernetesconfiguration:Extension")
    assert extension.id == extension_id
    assert extension.inputs["extensionType"] == "microsoft.flux"
    assert extension.inputs["scope"]["cluster"]["releaseNamespace"] == gitops.FLUX_NAMESPACE
    assert extension.inputs["configurationSettings"] == {
        "workloadIdentity.enable": "true",
        "workloadIdentity.azureClientId": "flux-client-id",
        "workloadIdentity.azureTenantId": "tenant",
    }
    # No credential reaches the extension: Flux's sources are the stack's, with `provider: azure`.
    assert "configurationProtectedSettings" not in extension.inputs
    assert not recorder.of_type("azure-native:kubernetesconfiguration:FluxConfiguration")


def assert_private_api_server(cluster: Mapping[str, Any]) -> None:
    access = cluster["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True
    assert access["enablePrivateClusterPublicFQDN"] is False
    assert "authorizedIPRanges" not in access


def test_without_a_node_subnet_the_api_server_is_public_and_says_so(recorder: Recorder) -> None:
    resolve(lambda: build().cluster_id)
    cluster = recorder.one("azure-native:containerservice:ManagedCluster").inputs
    assert cluster["apiServerAccessProfile"] == {"enablePrivateCluster": False}
    assert cluster["identity"]["type"] == "SystemAssigned"
    assert "vnetSubnetID" not in cluster["agentPoolProfiles"][0]


def test_private_cluster_nodes_sit_in_the_subnet_its_identity_may_join(recorder: Recorder) -> None:
    resolve(lambda: build(node_subnet_id=NODE_SUBNET).cluster_id)
    cluster = recorder.one("azure-native:containerservice:ManagedCluster")
    assert_private_api_server(cluster.inputs)
    assert cluster.inputs["apiServerAccessProfile"]["privateDNSZone"] == "system"
    assert cluster.inputs["agentPoolProfiles"][0]["vnetSubnetID"] == NODE_SUBNET
    assert recorder.one("azure-native:containerservice:AgentPool").inputs["vnetSubnetID"] == NODE_SUBNET
    (identity_id,) = cluster.inputs["identity"]["userAssignedIdentities"]
    assert cluster.inputs["identity"]["type"] == "UserAssigned" and identity_id.endswith("/id-mlops-dev-aks")
    network = cluster.inputs["networkProfile"]
    assert (network["podCidr"], network["serviceCidr"], network["dnsServiceIP"]) == (
        address_plan.AKS_POD_CIDR,
        address_plan.AKS_SERVICE_CIDR,
        address_plan.AKS_DNS_SERVICE_IP,
    )
    [subnet_grant] = [
        a
        for a in recorder.of_type("azure-native:authorization:RoleAssignment")
        if a.inputs["roleDefinitionId"].endswith(roles.guid(roles.NETWORK_CONTRIBUTOR))
    ]
    assert subnet_grant.inputs["scope"] == NODE_SUBNET
    assert subnet_grant.inputs["principalId"] == "id-mlops-dev-aks-principal-id"
    # The right exists before the cluster that needs it.
    assert subnet_grant.urn in cluster.dependencies


def test_check_rejects_a_public_api_server() -> None:
    with pytest.raises(AssertionError):
        assert_private_api_server({"apiServerAccessProfile": {"enablePrivateCluster": False}})


def test_check_rejects_a_gpu_pool_that_keeps_a_node() -> None:
    with pytest.raises(AssertionError):
        assert_gpu_pool_scales_from_zero(
            {
                "enableAutoScaling": True,
                "minCount": 1,
                "count": 1,
                "maxCount": 2,
                "nodeTaints": [naming.GPU_TAINT],
            }
        )
