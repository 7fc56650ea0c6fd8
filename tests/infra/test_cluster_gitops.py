"""The in-cluster stack under mocks: the provider's sign-in, what it creates in the cluster, and that it reads
all of it from its environment stack."""

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import pytest
import yaml

from infra import gitops, kube_rbac, kubeconfig, outputs
from infra.components.cluster_gitops import ClusterGitOps, ClusterGitOpsArgs, FluxProject
from infra.stacks import ENVIRONMENTS, cluster_stack
from infra.tools.mock_run import DeclaredResource, PlatformMocks, run_stack
from tests.gitops.flux_render import kubernetes_version
from tests.gitops.manifest_schemas import CrdSchemas, validation_errors
from tests.infra.component_mocks import SUBSCRIPTION, Recorder, resolve

CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev/providers/"
    "Microsoft.ContainerService/managedClusters/aks-mlops-dev"
)
PROJECTS = [
    FluxProject(
        "credit-scoring", "credit-scoring", "https://dev.azure.com/c/p/_git/credit-scoring", "deploy/dev"
    ),
    FluxProject("fraud", "fraud", "https://dev.azure.com/c/p/_git/fraud", "deploy/dev"),
]
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
            repository_url="https://dev.azure.com/c/p/_git/mlops-platform",
            branch="main",
            # As the stack reference gives them: known only once resolved.
            projects=pulumi.Output.from_input(PROJECTS),
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
    on_cluster = [r for r in recorder.resources if r.type.startswith("kubernetes:")]
    assert on_cluster and all(r.provider.startswith(provider.urn) for r in on_cluster)
    # It creates nothing through Azure Resource Manager: that is the environment stack's (cluster_access).
    assert not [r for r in recorder.resources if r.custom and r.type.startswith("azure-native:")]
    # The user credential comes from the cluster's subscription, through a provider for it.
    (azure,) = recorder.of_type("pulumi:providers:azure-native")
    assert azure.inputs["subscriptionId"] == SUBSCRIPTION


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


@pytest.fixture(scope="module")
def crds() -> CrdSchemas:
    return CrdSchemas.load()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_kubernetes_object_the_stack_declares_validates(crds: CrdSchemas, environment: str) -> None:
    objects = run_stack(cluster_stack(environment)).kubernetes_objects()
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
    objects = {r.inputs["kind"]: r.inputs for r in run_stack(cluster_stack("dev")).kubernetes_objects()}
    obj = {**objects[kind], section: {**objects[kind][section], **fields}}
    errors = validation_errors(obj, crds, kubernetes_version("dev"))
    assert errors and expected in errors[0]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_in_cluster_stack_reads_everything_from_its_environment_stack(environment: str) -> None:
    exported = run_stack(environment).outputs
    run = run_stack(cluster_stack(environment))
    (provider,) = run.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["clusterIdentifier"] == exported[outputs.AKS_CLUSTER_ID]
    assert (
        yaml.safe_load(provider.inputs["kubeconfig"])["clusters"][0]["name"] == exported[outputs.AKS_CLUSTER]
    )
    objects = run.kubernetes_objects()
    namespaces = {r.inputs["metadata"]["name"] for r in objects if r.inputs["kind"] == "Namespace"}
    assert namespaces == {p[outputs.PROJECT_NAMESPACE] for p in exported[outputs.PROJECTS].values()}
    sources = manifests(objects, "GitRepository")
    platform = sources[(gitops.FLUX_NAMESPACE, gitops.FLUX_SOURCE)]["spec"]
    assert platform["url"] == exported[outputs.GITOPS][outputs.GITOPS_REPOSITORY]
    assert platform["ref"] == {"branch": exported[outputs.GITOPS][outputs.GITOPS_BRANCH]}
    for slug, project in exported[outputs.PROJECTS].items():
        spec = sources[(project[outputs.PROJECT_NAMESPACE], gitops.project_source(slug))]["spec"]
        assert spec["url"] == project[outputs.PROJECT_REPOSITORY]
        assert spec["ref"] == {"branch": exported[outputs.DEPLOY_BRANCH]}
    # Nothing of Azure Resource Manager, and nothing exported: it is the last step of its environment.
    assert not [r for r in run.resources if r.custom and r.type.startswith("azure-native:")]
    assert run.outputs == {}


def test_the_environment_stack_creates_nothing_in_the_cluster() -> None:
    assert all(not run_stack(environment).kubernetes_objects() for environment in ENVIRONMENTS)
    assert not run_stack(ENVIRONMENTS[0]).of_type("pulumi:providers:kubernetes")


def test_an_in_cluster_stack_before_its_environment_stack_stops_with_the_engines_error() -> None:
    mocks = PlatformMocks(cluster_stack("dev"), SUBSCRIPTION, references={})
    with pytest.raises(
        RuntimeError, match="unknown stack 'organization/mlops-platform/dev': deploy it first"
    ):
        mocks.new_resource(
            pulumi.runtime.MockResourceArgs(
                "pulumi:pulumi:StackReference", "dev", {"name": "organization/mlops-platform/dev"}, None, None
            )
        )
