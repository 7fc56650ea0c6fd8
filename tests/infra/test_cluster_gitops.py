"""The in-cluster bootstrap under mocks: the provider's sign-in, what it creates, and who may do it."""

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import pytest
import yaml

from infra import gitops, kube_rbac, kubeconfig, outputs, roles
from infra.components.cluster_gitops import ClusterGitOps, ClusterGitOpsArgs, FluxProject
from infra.program import _for_environment
from infra.stacks import ENVIRONMENTS
from infra.tools.mock_run import DeclaredResource, run_stack
from tests.gitops.flux_render import kubernetes_version
from tests.gitops.manifest_schemas import CrdSchemas, validation_errors
from tests.infra.component_mocks import SUBSCRIPTION, Recorder, resolve

CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev/providers/"
    "Microsoft.ContainerService/managedClusters/aks-mlops-dev"
)
BOOTSTRAP_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000c0"
KUBE_ROLE_GUIDS = {role.key: f"guid-{role.key}" for role in roles.KUBE_ROLES}
PROJECTS = [
    FluxProject(
        "credit-scoring", "credit-scoring", "https://dev.azure.com/c/p/_git/credit-scoring", "deploy/dev"
    ),
    FluxProject("fraud", "fraud", "https://dev.azure.com/c/p/_git/fraud", "deploy/dev"),
]
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
GIT_REPOSITORY = f"kubernetes:{kube_rbac.GIT_REPOSITORY.api_version}:GitRepository"
KUSTOMIZATION = f"kubernetes:{kube_rbac.KUSTOMIZATION.api_version}:Kustomization"


def build() -> ClusterGitOps:
    return ClusterGitOps(
        "gitops",
        ClusterGitOpsArgs(
            environment="dev",
            subscription_id=SUBSCRIPTION,
            resource_group_name="rg-mlops-dev",
            cluster_name="aks-mlops-dev",
            cluster_id=CLUSTER_ID,
            kubernetes_version="1.33",
            oidc_issuer_url="https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
            flux_extension_id=f"{CLUSTER_ID}/providers/Microsoft.KubernetesConfiguration/extensions/flux",
            flux_identity={
                outputs.FLUX_IDENTITY_CLIENT_ID: "flux-client-id",
                outputs.FLUX_IDENTITY_NAME: "id-mlops-flux-dev",
                outputs.FLUX_IDENTITY_RESOURCE_GROUP: "rg-mlops-platform",
                outputs.FLUX_IDENTITY_SUBSCRIPTION_ID: BOOTSTRAP_SUBSCRIPTION,
            },
            kube_role_guids=KUBE_ROLE_GUIDS,
            deploy_principal_id="deploy-principal",
            preview_principal_id="preview-principal",
            repository_url="https://dev.azure.com/c/p/_git/mlops-platform",
            branch="main",
            projects=PROJECTS,
        ),
    )


def manifests(resources: Iterable[DeclaredResource], kind: str) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {
        (r.inputs["metadata"].get("namespace", ""), r.inputs["metadata"]["name"]): r.inputs
        for r in resources
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind
    }


def test_provider_signs_in_with_the_user_credential_as_the_pipelines_workload_identity(
    recorder: Recorder,
) -> None:
    resolve(lambda: build().provider.id)
    provider = recorder.one("pulumi:providers:kubernetes")
    config = yaml.safe_load(provider.inputs["kubeconfig"])
    (user,) = config["users"]
    assert user["user"]["exec"]["args"] == list(kubeconfig.KUBELOGIN_ARGS)
    assert config["clusters"][0]["cluster"]["server"].startswith("https://aks-mlops-dev")
    # Replacement follows the cluster, not the kubeconfig's text.
    assert provider.inputs["clusterIdentifier"] == CLUSTER_ID
    # It acts only once the roles it acts with exist.
    deploy_grants = [
        r for r in recorder.of_type(ROLE_ASSIGNMENT) if r.inputs["principalId"] == "deploy-principal"
    ]
    assert deploy_grants and all(grant.urn in provider.dependencies for grant in deploy_grants)
    on_cluster = [r for r in recorder.resources if r.type.startswith("kubernetes:")]
    assert on_cluster and all(r.provider.startswith(provider.urn) for r in on_cluster)


def test_flux_reads_every_repository_by_workload_identity(recorder: Recorder) -> None:
    resolve(lambda: build().provider.id)
    sources = manifests(recorder.resources, "GitRepository")
    assert set(sources) == {
        (gitops.FLUX_NAMESPACE, gitops.FLUX_SOURCE),
        ("credit-scoring", "credit-scoring"),
        ("fraud", "fraud"),
    }
    for source in sources.values():
        assert source["spec"]["provider"] == "azure"
        # No credential: nothing to create out of band, nothing that expires.
        assert "secretRef" not in source["spec"]
    assert sources[("fraud", "fraud")]["spec"]["ref"] == {"branch": "deploy/dev"}
    (federation,) = [
        r
        for r in recorder.of_type("azure-native:managedidentity:FederatedIdentityCredential")
        if r.name == "gitops-flux-federation"
    ]
    assert federation.inputs["subject"] == "system:serviceaccount:flux-system:source-controller"
    assert federation.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert federation.inputs["resourceName"] == "id-mlops-flux-dev"
    # The identity is the bootstrap stack's, in its subscription.
    assert federation.id.startswith(
        f"/subscriptions/{BOOTSTRAP_SUBSCRIPTION}/resourceGroups/rg-mlops-platform/"
    )


def test_kustomizations_apply_as_the_platform_or_as_the_projects_namespace_admin(recorder: Recorder) -> None:
    resolve(lambda: build().provider.id)
    kustomizations = manifests(recorder.resources, "Kustomization")
    platform = {key: k for key, k in kustomizations.items() if key[0] == gitops.FLUX_NAMESPACE}
    assert set(platform) == {
        (gitops.FLUX_NAMESPACE, "platform-cluster"),
        (gitops.FLUX_NAMESPACE, "platform-ns-credit-scoring"),
        (gitops.FLUX_NAMESPACE, "platform-ns-fraud"),
    }
    assert {k["spec"]["serviceAccountName"] for k in platform.values()} == {gitops.PLATFORM_APPLIER}
    assert platform[(gitops.FLUX_NAMESPACE, "platform-cluster")]["spec"]["path"] == "./gitops/clusters/dev"
    fraud = kustomizations[("fraud", "fraud-app")]["spec"]
    assert fraud["serviceAccountName"] == gitops.PROJECT_APPLIER
    assert fraud["sourceRef"] == {"kind": "GitRepository", "name": "fraud"}
    assert fraud["path"] == "./deploy/overlays/dev" and fraud["targetNamespace"] == "fraud"
    binding = manifests(recorder.resources, "RoleBinding")[("fraud", gitops.PROJECT_APPLIER)]
    # The namespace's admin, bound in the namespace: nothing of the cluster.
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "admin",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": gitops.PROJECT_APPLIER, "namespace": "fraud"}
    ]


def test_namespaces_and_cluster_values_exist_before_flux_reads_them(recorder: Recorder) -> None:
    resolve(lambda: build().provider.id)
    values = manifests(recorder.resources, "ConfigMap")[(gitops.FLUX_NAMESPACE, gitops.CLUSTER_VALUES)]
    assert values["data"] == {gitops.ENVIRONMENT_VAR: "dev"}
    namespaces = manifests(recorder.resources, "Namespace")
    assert set(namespaces) == {("", "credit-scoring"), ("", "fraud")}
    labels = namespaces[("", "fraud")]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.33"
    namespace_urn = next(r.urn for r in recorder.resources if r.name == "gitops-fraud-namespace")
    for name in ("gitops-fraud-source", "gitops-fraud-applier", "gitops-fraud-namespace-base"):
        (resource,) = [r for r in recorder.resources if r.name == name]
        assert namespace_urn in resource.dependencies, name


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
    resolve(lambda: build().provider.id)
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


@pytest.fixture(scope="module")
def crds() -> CrdSchemas:
    return CrdSchemas.load()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_kubernetes_object_the_stack_declares_validates(crds: CrdSchemas, environment: str) -> None:
    objects = run_stack(environment).kubernetes_objects()
    assert {r.inputs["kind"] for r in objects} == {kind.kind for kind in kube_rbac.KINDS}
    version = kubernetes_version(environment)
    errors = [error for r in objects for error in validation_errors(r.inputs, crds, version)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    ("kind", "section", "fields", "expected"),
    [
        # Flux's Git providers are generic, azure and github; anything else is refused.
        ("GitRepository", "spec", {"provider": "azure-devops"}, "is not one of"),
        (
            "Kustomization",
            "spec",
            {"serviceAcountName": "flux-applier"},
            "'serviceAcountName' was unexpected",
        ),
        ("Namespace", "metadata", {"labelz": {}}, "'labelz' was unexpected"),
    ],
    ids=["flux-provider", "kustomization-typo", "namespace-typo"],
)
def test_a_broken_object_of_the_stack_fails_validation(
    crds: CrdSchemas, kind: str, section: str, fields: Mapping[str, Any], expected: str
) -> None:
    objects = {r.inputs["kind"]: r.inputs for r in run_stack("dev").kubernetes_objects()}
    obj = {**objects[kind], section: {**objects[kind][section], **fields}}
    errors = validation_errors(obj, crds, kubernetes_version("dev"))
    assert errors and expected in errors[0]


def test_a_bootstrap_stack_without_this_environment_stops_with_one_line(recorder: Recorder) -> None:
    with pytest.raises(pulumi.RunError, match="the bootstrap stack has no Flux identity for 'qa'"):
        resolve(lambda: _for_environment(pulumi.Output.from_input({"dev": {}}), "qa", "Flux identity"))
