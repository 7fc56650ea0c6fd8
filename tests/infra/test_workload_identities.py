import pytest

from infra.components.workload_identities import (
    ProjectServiceAccount,
    WorkloadIdentities,
    WorkloadIdentitiesArgs,
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
                    projects=[
                        ProjectServiceAccount(
                            "credit-scoring", "id-mlops-dev-credit-scoring", "credit-scoring", "cs-sa"
                        ),
                        ProjectServiceAccount("fraud", "id-mlops-dev-fraud", "fraud", "fraud"),
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
    telemetry = recorder.of_type("azure-native:authorization:RoleAssignment")
    assert {t.inputs["scope"] for t in telemetry} == {"/appi"}


def test_subject_format_is_what_aks_issues() -> None:
    with pytest.raises(AssertionError):
        assert subject_of("ns", "sa") == "system:serviceaccount:sa:ns"
