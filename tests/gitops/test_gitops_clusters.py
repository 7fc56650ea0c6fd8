"""Every cluster renders as Flux would render it, every object is valid, and the wiring holds together."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from infra import gitops, naming
from infra.stacks import ENVIRONMENTS
from tests.gitops.flux_render import (
    CLUSTER_SIZES,
    CLUSTER_VALUES,
    REPO_ROOT,
    ClusterRender,
    find,
    kustomize_build,
)
from tests.gitops.manifest_schemas import CrdSchemas, object_name, validation_errors

# Namespaces AKS itself provides; everything else a manifest refers to must be created by the tree.
AKS_NAMESPACES = frozenset({"kube-system", gitops.FLUX_NAMESPACE})
# What a platform-ns-<slug> Kustomization substitutes itself, per project.
STACK_VARIABLES = frozenset({gitops.PROJECT_NAMESPACE_VAR})
GITOPS = REPO_ROOT / "gitops"


@pytest.fixture(scope="module")
def crds() -> CrdSchemas:
    return CrdSchemas.load()


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def cluster(request: pytest.FixtureRequest, rendered: Callable[[str], ClusterRender]) -> ClusterRender:
    return rendered(request.param)


def by_kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def test_every_object_validates(cluster: ClusterRender, crds: CrdSchemas) -> None:
    version = cluster.kubernetes_version
    errors = [error for obj in cluster.objects() for error in validation_errors(obj, crds, version)]
    assert not errors, "\n".join(errors)


def test_every_flux_path_is_a_kustomize_directory(cluster: ClusterRender) -> None:
    # Without kustomization.yaml Flux generates one from every YAML file, which kubectl would not.
    paths = [gitops.cluster_path(cluster.environment), gitops.PROJECT_NAMESPACE_PATH]
    paths += [obj["spec"]["path"] for obj in cluster.kustomizations]
    missing = [path for path in paths if not (REPO_ROOT / path / "kustomization.yaml").is_file()]
    assert not missing


def test_entry_point_is_thin(cluster: ClusterRender) -> None:
    kinds = sorted({obj["kind"] for obj in cluster.entry})
    assert kinds == ["ConfigMap", "Kustomization"]
    assert [obj["metadata"]["name"] for obj in by_kind(cluster.entry, "ConfigMap")] == [CLUSTER_SIZES]
    # The stack's Kustomization for clusters/<env> has no post-build, so nothing there is substituted.
    assert "$" not in kustomize_build(REPO_ROOT / gitops.cluster_path(cluster.environment))


def test_kustomizations_reconcile_this_repository(cluster: ClusterRender) -> None:
    for kustomization in cluster.kustomizations:
        assert kustomization["metadata"]["namespace"] == gitops.FLUX_NAMESPACE
        assert kustomization["spec"]["sourceRef"] == {"kind": "GitRepository", "name": gitops.FLUX_SOURCE}
        assert kustomization["spec"]["prune"] is True
        substitute_from = kustomization["spec"]["postBuild"]["substituteFrom"]
        assert {"kind": "ConfigMap", "name": CLUSTER_VALUES} in substitute_from
        assert {"kind": "ConfigMap", "name": CLUSTER_SIZES} in substitute_from
        # Under the extension's multi-tenancy lockdown, flux-system has no default account to apply as.
        assert kustomization["spec"]["serviceAccountName"] == gitops.PLATFORM_APPLIER


def test_dependencies_resolve_in_one_order(cluster: ClusterRender) -> None:
    names = [obj["metadata"]["name"] for obj in cluster.kustomizations]
    depends_on = {
        obj["metadata"]["name"]: [dep["name"] for dep in obj["spec"].get("dependsOn", [])]
        for obj in cluster.kustomizations
    }
    assert all(dep in names for deps in depends_on.values() for dep in deps)
    # Applying in file order must satisfy every dependency: that is the order a reader sees.
    applied: set[str] = set()
    for name in names:
        assert set(depends_on[name]) <= applied, f"{name} depends on one listed after it"
        applied.add(name)
    # One chain: each layer waits for the one before it.
    assert [deps for deps in depends_on.values()] == [[], *([name] for name in names[:-1])]


def test_helm_releases_resolve_and_pin_a_minor(cluster: ClusterRender) -> None:
    for layer in cluster.layers.values():
        for release in by_kind(layer, "HelmRelease"):
            chart = release["spec"]["chart"]["spec"]
            namespace = release["metadata"]["namespace"]
            find(layer, chart["sourceRef"]["kind"], chart["sourceRef"]["name"], namespace)
            # Patch releases only: a new minor is a reviewed change, not a nightly surprise.
            assert re.fullmatch(r"\d+\.\d+\.(x|\d+)", chart["version"]), object_name(release)


def test_namespaces_exist_and_declare_pod_security(cluster: ClusterRender) -> None:
    objects = cluster.objects()
    namespaces = {obj["metadata"]["name"]: obj for obj in by_kind(objects, "Namespace")}
    for obj in objects:
        namespace = obj["metadata"].get("namespace")
        assert namespace is None or namespace in namespaces or namespace in AKS_NAMESPACES, object_name(obj)
    for name, namespace in namespaces.items():
        assert "pod-security.kubernetes.io/enforce" in namespace["metadata"]["labels"], name


def project_namespace(cluster: ClusterRender) -> dict[str, Any]:
    """The project's namespace, which the stack creates; the base fills it."""
    (name,) = {obj["metadata"]["namespace"] for obj in cluster.project}
    return find(cluster.stack, "Namespace", name)


def test_project_namespace_is_restricted_and_denies_by_default(cluster: ClusterRender) -> None:
    namespace = project_namespace(cluster)
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # Enforced at the cluster's own version, so no cluster enforces rules it does not know, and an upgrade
    # (a reviewed change of the stack file, dev first) is when enforcement moves.
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{cluster.kubernetes_version}"
    assert labels["mlops-platform/environment"] == cluster.environment
    deny = find(cluster.project, "NetworkPolicy", "default-deny", namespace["metadata"]["name"])
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {obj["kind"] for obj in cluster.project} >= {"ResourceQuota", "LimitRange", "NetworkPolicy"}


def test_network_policies_name_namespaces_that_exist(cluster: ClusterRender) -> None:
    namespaces = {obj["metadata"]["name"] for obj in by_kind(cluster.objects(), "Namespace")} | AKS_NAMESPACES
    for policy in by_kind(cluster.project, "NetworkPolicy"):
        for rule in [*policy["spec"].get("ingress", []), *policy["spec"].get("egress", [])]:
            for peer in [*rule.get("from", []), *rule.get("to", [])]:
                selected = peer.get("namespaceSelector", {}).get("matchLabels", {})
                name = selected.get("kubernetes.io/metadata.name")
                assert name is None or name in namespaces, object_name(policy)


def test_every_substituted_value_comes_from_each_cluster(cluster: ClusterRender) -> None:
    used = {
        match
        for path in (GITOPS / "infrastructure").rglob("*.yaml")
        for match in re.findall(r"\$\{([_a-zA-Z][_a-zA-Z0-9]*)", path.read_text())
    }
    # A value that only a default supplies would make the clusters differ by omission.
    assert set(cluster.values) == used - STACK_VARIABLES
    # One source for each value: what the stack knows is not repeated among the cluster's sizes.
    assert not set(cluster.sizes) & set(cluster.stack_values)
    assert cluster.stack_values[gitops.ENVIRONMENT_VAR] == cluster.environment


def test_flagger_can_shift_weight_and_measure_it(cluster: ClusterRender) -> None:
    controllers = cluster.layers["platform-controllers"]
    flagger = find(controllers, "HelmRelease", "flagger", "flux-system")["spec"]["values"]
    # `kubernetes` would mean blue/green only; nginx shifts canary weight through the ingress.
    assert flagger["meshProvider"] == "nginx"
    assert flagger["prometheus"]["install"] is True
    nginx = find(controllers, "HelmRelease", "ingress-nginx", "flux-system")["spec"]["values"]["controller"]
    assert nginx["metrics"]["enabled"] is True
    assert nginx["podAnnotations"]["prometheus.io/scrape"] == "true"
    ingress_class = nginx["ingressClassResource"]["name"]
    policies = cluster.layers["platform-policies"]
    (validation,) = find(policies, "ValidatingAdmissionPolicy", "project-ingress")["spec"]["validations"]
    assert f"object.spec.ingressClassName == '{ingress_class}'" in validation["expression"]
    binding = find(policies, "ValidatingAdmissionPolicyBinding", "project-ingress")
    selector = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["key"]
    assert selector in project_namespace(cluster)["metadata"]["labels"]


def test_device_plugin_runs_on_gpu_nodes_only(cluster: ClusterRender) -> None:
    controllers = cluster.layers["platform-controllers"]
    pod = find(controllers, "DaemonSet", "nvidia-device-plugin", "gpu-resources")["spec"]["template"]["spec"]
    label_key, label_value = naming.GPU_NODE_LABEL
    assert pod["nodeSelector"] == {label_key: label_value}
    taint, effect = naming.GPU_TAINT.split(":")
    key, value = taint.split("=")
    assert {"key": key, "operator": "Equal", "value": value, "effect": effect} in pod["tolerations"]
