from collections.abc import Mapping
from typing import Any

import pytest

from infra import gitops, naming
from infra.components.aks import Aks, AksArgs, FluxProject
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

PROJECTS = [
    FluxProject("credit-scoring", "credit-scoring", "https://dev.azure.com/c/p/_git/credit-scoring"),
    FluxProject("fraud", "fraud", "https://dev.azure.com/c/p/_git/fraud"),
]


def build(auth_secret: str = "") -> Aks:
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
            gitops_repository_url="https://dev.azure.com/c/p/_git/mlops-platform",
            gitops_branch="main",
            gitops_auth_secret=auth_secret,
            projects=PROJECTS,
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
    (assignment,) = recorder.of_type("azure-native:authorization:RoleAssignment")
    assert assignment.inputs["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")
    assert assignment.inputs["principalId"] == "aks-mlops-dev-kubelet-object-id"
    assert assignment.inputs["scope"].endswith("/registries/cr")


def test_flux_configurations_depend_on_the_extension_one_per_project_plus_the_cluster(
    recorder: Recorder,
) -> None:
    resolve(lambda: build().cluster_name)
    extension = recorder.one("azure-native:kubernetesconfiguration:Extension")
    assert extension.inputs["extensionType"] == "microsoft.flux"
    configurations = {
        c.inputs["fluxConfigurationName"]: c
        for c in recorder.of_type("azure-native:kubernetesconfiguration:FluxConfiguration")
    }
    assert set(configurations) == {gitops.FLUX_SOURCE, "credit-scoring", "fraud"}
    for configuration in configurations.values():
        assert extension.urn in configuration.dependencies
    platform = configurations[gitops.FLUX_SOURCE].inputs
    assert platform["kustomizations"][gitops.CLUSTER_KUSTOMIZATION]["path"] == gitops.cluster_path("dev")
    namespace = platform["kustomizations"][gitops.project_namespace_kustomization("fraud")]
    assert namespace["dependsOn"] == [gitops.CLUSTER_KUSTOMIZATION]
    assert namespace["postBuild"]["substitute"][gitops.PROJECT_NAMESPACE_VAR] == "fraud"
    assert namespace["postBuild"]["substituteFrom"] == [
        {"kind": "ConfigMap", "name": gitops.CLUSTER_VALUES, "optional": False}
    ]
    project = configurations["fraud"].inputs
    assert project["scope"] == "namespace" and project["namespace"] == "fraud"
    assert project["gitRepository"]["url"].endswith("/_git/fraud")
    assert project["kustomizations"]["app"]["path"] == gitops.project_overlay_path("dev")
    assert "localAuthRef" not in project["gitRepository"]


def test_git_credentials_come_from_a_cluster_secret_never_from_config(recorder: Recorder) -> None:
    resolve(lambda: build(auth_secret="flux-git-auth").cluster_name)
    for configuration in recorder.of_type("azure-native:kubernetesconfiguration:FluxConfiguration"):
        assert configuration.inputs["gitRepository"]["localAuthRef"] == "flux-git-auth"
        assert "configurationProtectedSettings" not in configuration.inputs


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
