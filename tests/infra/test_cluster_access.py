"""What the environment stack grants in Azure Resource Manager for its in-cluster stack, under mocks: Flux's
federation and who may manage or read the in-cluster objects where they live."""

from collections.abc import Iterable

import pulumi
import pytest

from infra import gitops, kube_rbac, outputs, roles
from infra.components.cluster_access import ClusterAccess, ClusterAccessArgs
from infra.program import _for_environment
from tests.infra.conftest import SUBSCRIPTION, Recorder, resolve

CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev/providers/"
    "Microsoft.ContainerService/managedClusters/aks-mlops-dev"
)
BOOTSTRAP_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000c0"
KUBE_ROLE_GUIDS = {role.key: f"guid-{role.key}" for role in roles.KUBE_ROLES}
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def build() -> ClusterAccess:
    return ClusterAccess(
        "gitops",
        ClusterAccessArgs(
            environment="dev",
            subscription_id=SUBSCRIPTION,
            cluster_id=CLUSTER_ID,
            oidc_issuer_url="https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
            flux_identity={
                outputs.FLUX_IDENTITY_CLIENT_ID: "flux-client-id",
                outputs.FLUX_IDENTITY_NAME: "id-mlops-flux-dev",
                outputs.FLUX_IDENTITY_RESOURCE_GROUP: "rg-mlops-platform",
                outputs.FLUX_IDENTITY_SUBSCRIPTION_ID: BOOTSTRAP_SUBSCRIPTION,
            },
            kube_role_guids=KUBE_ROLE_GUIDS,
            deploy_principal_id="deploy-principal",
            preview_principal_id="preview-principal",
            namespaces={"credit-scoring": "credit-scoring", "fraud": "fraud"},
        ),
    )


def test_flux_source_controller_is_federated_with_the_bootstrap_identity(recorder: Recorder) -> None:
    resolve(lambda: build().urn)
    federation = recorder.one("azure-native:managedidentity:FederatedIdentityCredential")
    assert federation.inputs["subject"] == "system:serviceaccount:flux-system:source-controller"
    assert federation.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert federation.inputs["resourceName"] == "id-mlops-flux-dev"
    # The identity is the bootstrap stack's, in its subscription.
    assert federation.id.startswith(
        f"/subscriptions/{BOOTSTRAP_SUBSCRIPTION}/resourceGroups/rg-mlops-platform/"
    )


def grants_of(recorder: Recorder, principal: str) -> set[tuple[str, str]]:
    """(scope, role GUID) of one principal's assignments."""
    return {
        (r.inputs["scope"], r.inputs["roleDefinitionId"].rpartition("/")[2])
        for r in recorder.of_type(ROLE_ASSIGNMENT)
        if r.inputs["principalId"] == principal
    }


def assert_reads_only(role_guids: Iterable[str]) -> None:
    by_guid = {KUBE_ROLE_GUIDS[role.key]: role for role in roles.KUBE_ROLES}
    for guid in role_guids:
        if guid in by_guid:
            actions = by_guid[guid].data_actions
            assert actions and all(action.endswith("/read") for action in actions), by_guid[guid].key


def test_deploy_identity_manages_and_preview_identity_reads_where_the_objects_live(
    recorder: Recorder,
) -> None:
    resolve(lambda: build().urn)
    flux = kube_rbac.scope(CLUSTER_ID, gitops.FLUX_NAMESPACE)
    tenants = {kube_rbac.scope(CLUSTER_ID, ns): "tenant" for ns in ("credit-scoring", "fraud")}
    expected = {CLUSTER_ID: "namespaces", flux: "flux", **tenants}
    assert grants_of(recorder, "deploy-principal") == {
        (scope, f"guid-{key}") for scope, key in expected.items()
    }
    preview = grants_of(recorder, "preview-principal")
    # The read-only twins where the deploy identity writes, and the cluster's user kubeconfig (Cluster User
    # Role: listClusterUserCredential and nothing else).
    assert preview == {(scope, f"guid-{key}-read") for scope, key in expected.items()} | {
        (CLUSTER_ID, roles.guid(roles.AKS_CLUSTER_USER))
    }
    assert_reads_only(guid for _scope, guid in preview)


def test_a_role_that_writes_is_not_read_only() -> None:
    assert_reads_only(["guid-namespaces-read", "guid-flux-read"])
    with pytest.raises(AssertionError):
        assert_reads_only(["guid-namespaces-read", "guid-tenant"])


def test_every_custom_role_names_aks_data_actions_and_its_twin_only_reads() -> None:
    for role in roles.KUBE_WRITERS:
        assert all(action.startswith(kube_rbac.PREFIX + "/") for action in role.data_actions)
        twin = role.read_only()
        assert twin.data_actions and set(twin.data_actions) < set(role.data_actions)
        assert all(action.endswith("/read") for action in twin.data_actions)
    # Binding a ClusterRole is the tenant role's alone, never a reader's.
    assert [r.key for r in roles.KUBE_ROLES if kube_rbac.BIND_CLUSTER_ROLES in r.data_actions] == ["tenant"]


def test_a_bootstrap_stack_without_this_environment_stops_with_one_line(recorder: Recorder) -> None:
    with pytest.raises(pulumi.RunError, match="the bootstrap stack has no Flux identity for 'qa'"):
        resolve(lambda: _for_environment(pulumi.Output.from_input({"dev": {}}), "qa", "Flux identity"))
