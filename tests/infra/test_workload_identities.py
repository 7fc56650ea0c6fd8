import pytest

from infra.components.workload_identities import (
    ProjectServiceAccount,
    WorkloadIdentities,
    WorkloadIdentitiesArgs,
    collector_condition,
    inference_data_condition,
)
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/aks/"


def subject_of(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def test_each_project_identity_trusts_its_service_account_on_the_cluster_issuer(recorder: Recorder) -> None:
    client_ids = resolve(
        lambda: (
            WorkloadIdentities(
                "workloads",
                WorkloadIdentitiesArgs(
                    resource_group_name="rg",
                    location="westeurope",
                    subscription_id=SUBSCRIPTION,
                    oidc_issuer_url=ISSUER,
                    app_insights_id="/appi",
                    inference_data_container_id="/dvc",
                    registry_id="/acr",
                    workspace_storage_id="/st",
                    projects=[
                        ProjectServiceAccount(
                            "credit-scoring",
                            "id-mlops-dev-credit-scoring",
                            "credit-scoring",
                            "cs-sa",
                            "credit-scoring-ep",
                        ),
                        ProjectServiceAccount("fraud", "id-mlops-dev-fraud", "fraud", "fraud", "fraud-ep"),
                    ],
                    tags=TAGS,
                ),
            ).client_ids
        )
    )
    assert client_ids == {
        "credit-scoring": "id-mlops-dev-credit-scoring-client-id",
        "fraud": "id-mlops-dev-fraud-client-id",
    }
    credentials = {
        c.inputs["resourceName"]: c.inputs
        for c in recorder.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    }
    assert credentials["id-mlops-dev-credit-scoring"]["subject"] == subject_of("credit-scoring", "cs-sa")
    assert all(c["issuer"] == ISSUER for c in credentials.values())
    grants = recorder.of_type("azure-native:authorization:RoleAssignment")
    assert sorted(t.inputs["scope"] for t in grants) == sorted(["/appi", "/dvc", "/acr", "/st", "/st"] * 2)
    writes = {t.inputs["condition"] for t in grants if t.inputs["scope"] == "/dvc"}
    assert writes == {inference_data_condition("credit-scoring"), inference_data_condition("fraud")}
    # The endpoint's own rights: AcrPull and datastore reads as Azure ML documents them, collector writes
    # narrowed to the endpoint's prefix.
    conditions = {t.inputs.get("condition") for t in grants if t.inputs["scope"] == "/st"}
    assert conditions == {None, collector_condition("credit-scoring-ep"), collector_condition("fraud-ep")}


def test_the_inference_data_grant_holds_every_blob_action_to_the_project_prefix() -> None:
    condition = inference_data_condition("credit-scoring")
    assert "StringStartsWith 'credit-scoring/modelDataCollector/'" in condition
    for action in ("read", "write", "delete", "add/action"):
        assert f"containers/blobs/{action}'}}" in condition
    with pytest.raises(AssertionError):
        assert "StringStartsWith 'fraud/" in condition


def test_the_collector_grant_holds_writes_to_the_endpoint_prefix_and_leaves_reads() -> None:
    condition = collector_condition("credit-scoring-ep")
    assert "StringStartsWith 'modelDataCollector/credit-scoring-ep/'" in condition
    for action in ("write", "delete", "add/action"):
        assert f"containers/blobs/{action}'}}" in condition
    assert "containers/blobs/read'" not in condition


def test_subject_format_is_what_aks_issues() -> None:
    with pytest.raises(AssertionError):
        assert subject_of("ns", "sa") == "system:serviceaccount:sa:ns"
