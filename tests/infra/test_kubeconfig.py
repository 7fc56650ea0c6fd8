"""The kubeconfig Pulumi reaches a cluster with: the user credential's cluster, the pipeline's identity."""

import base64

import pytest
import yaml

from infra import kubeconfig
from infra.tools.mock_run import user_kubeconfig


def encoded(text: str) -> list[dict[str, str]]:
    return [{"name": "clusterUser", "value": base64.b64encode(text.encode()).decode()}]


def test_keeps_the_cluster_and_signs_in_as_the_pipelines_workload_identity() -> None:
    original = yaml.safe_load(user_kubeconfig("rg-mlops-dev", "aks-mlops-dev"))
    result = yaml.safe_load(
        kubeconfig.workload_identity(
            kubeconfig.decode(encoded(user_kubeconfig("rg-mlops-dev", "aks-mlops-dev")))
        )
    )
    assert result["clusters"] == original["clusters"]
    (user,) = result["users"]
    execution = user["user"]["exec"]
    assert execution["command"] == "kubelogin"
    # kubelogin's documented exec form for workload identity, with the AKS Entra server application.
    assert execution["args"] == [
        "get-token",
        "--login",
        "workloadidentity",
        "--server-id",
        kubeconfig.AKS_SERVER_ID,
    ]
    assert kubeconfig.AKS_SERVER_ID == "6dae42f8-4368-4678-94ff-3960e28e3630"
    assert execution["interactiveMode"] == "Never"
    # Nothing of the device-code user survives: no client id, no tenant, no token, no certificate.
    assert set(user["user"]) == {"exec"}
    assert result["contexts"] == [
        {"name": "aks-mlops-dev", "context": {"cluster": "aks-mlops-dev", "user": kubeconfig.USER}}
    ]
    assert result["current-context"] == "aks-mlops-dev"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: []", "exactly one cluster"),
        ("clusters: [{name: a, cluster: {server: 'http://a:80'}}]", "https://"),
        ("just text", "exactly one cluster"),
    ],
)
def test_refuses_what_is_not_one_https_cluster(text: str, message: str) -> None:
    with pytest.raises(kubeconfig.KubeconfigError, match=message):
        kubeconfig.workload_identity(text)


def test_refuses_anything_but_one_base64_kubeconfig() -> None:
    with pytest.raises(kubeconfig.KubeconfigError, match="expected one"):
        kubeconfig.decode([])
    with pytest.raises(kubeconfig.KubeconfigError, match="base64"):
        kubeconfig.decode([{"name": "clusterUser", "value": "not base64!"}])
