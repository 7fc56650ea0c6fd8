"""What Flux applies to one cluster, rendered offline.

Flux reconciles `clusters/<env>` (the Kustomization the environment stack creates), which holds more Flux
Kustomizations; each of those builds its own path and runs post-build substitution over the result. This
module does the same with `kubectl kustomize` and the subset of Flux's envsubst the manifests use, and
renders one project namespace the way the stack's `platform-ns-<slug>` Kustomization does. What the stack
itself creates in the cluster (its Flux objects, `cluster-values`, the project namespaces) comes from the
program run under mocks, as the manifests pulumi-kubernetes would apply.

    python -m tests.gitops.flux_render dev     # print everything Flux would apply to dev
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra import gitops
from infra.config import PROJECT
from infra.stacks import cluster_stack
from infra.tools import stack_config
from infra.tools.mock_run import run_stack

REPO_ROOT = Path(__file__).resolve().parents[2]

CLUSTER_VALUES = gitops.CLUSTER_VALUES
CLUSTER_SIZES = gitops.CLUSTER_SIZES
# Stands in for any onboarded project: the base renders the same for every slug.
SAMPLE_PROJECT = "credit-scoring"

# Flux accepts these variable names (kustomize-controller's post-build rules).
_VARIABLE = r"[_a-zA-Z][_a-zA-Z0-9]*"
_REFERENCE = re.compile(rf"\$\{{({_VARIABLE})(?::=([^}}]*))?\}}")


class RenderError(RuntimeError):
    """The tree does not render the way Flux would render it."""


def kustomize_build(path: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RenderError(
            "kubectl is not on PATH; it builds kustomizations here as Flux does in the cluster. Install it: "
            "https://kubernetes.io/docs/tasks/tools/ (or `az aks install-cli`)"
        )
    result = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {path} failed:\n{result.stderr}")
    return result.stdout


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """Flux's post-build substitution of `${name}` and `${name:=default}`, strict about the rest.

    Flux would replace an unknown variable with an empty string; here that is an error, and so is any `$`
    left over, because it would be a construct Flux reads differently from its author's intent.
    """

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        if default is not None:
            return default
        raise RenderError(f"${{{name}}} has no value and no default")

    result = _REFERENCE.sub(replace, text)
    if "$" in result:
        line = next(line for line in result.splitlines() if "$" in line)
        raise RenderError(f"unsupported or malformed substitution left after post-build: {line.strip()}")
    return result


def parse(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    for obj in objects:
        metadata = obj.get("metadata", {})
        if (obj.get("kind"), metadata.get("name"), metadata.get("namespace")) == (kind, name, namespace):
            return obj
    raise RenderError(f"no {kind} {namespace}/{name}")


def _variables(post_build: Mapping[str, Any], sources: list[dict[str, Any]]) -> dict[str, str]:
    """Variables of a Flux post-build: substituteFrom in order, then substitute, which wins."""
    variables: dict[str, str] = {}
    for ref in post_build.get("substituteFrom", []):
        try:
            source = find(sources, ref["kind"], ref["name"], gitops.FLUX_NAMESPACE)
        except RenderError:
            if ref.get("optional", False):
                continue
            raise
        variables.update(source.get("data", {}))
    variables.update(post_build.get("substitute", {}))
    return variables


def render_path(path: str, post_build: Mapping[str, Any] | None, sources: list[dict[str, Any]]) -> str:
    """Build a Flux Kustomization's path (relative to the repository root) and run its post-build, whose
    ConfigMaps are looked up in `sources`."""
    text = kustomize_build(REPO_ROOT / path)
    return text if post_build is None else substitute(text, _variables(post_build, sources))


@dataclass(frozen=True)
class ClusterRender:
    environment: str
    # The cluster's Kubernetes version (major.minor), from its stack's configuration.
    kubernetes_version: str
    # clusters/<env>: applied by the stack's Kustomization, which has no post-build.
    entry: list[dict[str, Any]]
    # Every Flux Kustomization of the entry, by name: what it applies after substitution.
    layers: dict[str, list[dict[str, Any]]]
    # One project namespace's base, as the stack's platform-ns-<slug> Kustomization renders it.
    project: list[dict[str, Any]]
    # What the environment stack creates in the cluster itself.
    stack: list[dict[str, Any]]

    @property
    def kustomizations(self) -> list[dict[str, Any]]:
        return [obj for obj in self.entry if obj["kind"] == "Kustomization"]

    @property
    def sizes(self) -> dict[str, str]:
        return find(self.entry, "ConfigMap", CLUSTER_SIZES, gitops.FLUX_NAMESPACE)["data"]

    @property
    def stack_values(self) -> dict[str, str]:
        return find(self.stack, "ConfigMap", CLUSTER_VALUES, gitops.FLUX_NAMESPACE)["data"]

    @property
    def values(self) -> dict[str, str]:
        """Every value a Kustomization of this cluster can substitute."""
        return {**self.sizes, **self.stack_values}

    def objects(self) -> list[dict[str, Any]]:
        return [
            *self.entry,
            *(obj for layer in self.layers.values() for obj in layer),
            *self.project,
            *self.stack,
        ]


def kubernetes_version(environment: str) -> str:
    """The cluster's Kubernetes version (major.minor), as its stack configures AKS."""
    return stack_config.load(environment, REPO_ROOT)[f"{PROJECT}:aksKubernetesVersion"]


def stack_objects(environment: str) -> list[dict[str, Any]]:
    """The Kubernetes objects the environment's in-cluster stack creates, from the program under mocks, so
    gitops/ is rendered exactly as that stack would have Flux do it."""
    return [dict(resource.inputs) for resource in run_stack(cluster_stack(environment)).kubernetes_objects()]


def render_cluster(environment: str, project_slug: str = SAMPLE_PROJECT) -> ClusterRender:
    stack = stack_objects(environment)
    entry = parse(kustomize_build(REPO_ROOT / gitops.cluster_path(environment)))
    # Flux finds a post-build's ConfigMaps among everything in flux-system: the entry's and the stack's.
    sources = [*entry, *stack]
    layers = {
        obj["metadata"]["name"]: parse(
            render_path(obj["spec"]["path"], obj["spec"].get("postBuild"), sources)
        )
        for obj in entry
        if obj["kind"] == "Kustomization"
    }
    namespace_base = find(
        stack,
        "Kustomization",
        gitops.kustomization_name(gitops.project_namespace_kustomization(project_slug)),
        gitops.FLUX_NAMESPACE,
    )
    project = parse(render_path(gitops.PROJECT_NAMESPACE_PATH, namespace_base["spec"]["postBuild"], sources))
    return ClusterRender(environment, kubernetes_version(environment), entry, layers, project, stack)


if __name__ == "__main__":
    print(yaml.safe_dump_all(render_cluster(sys.argv[1]).objects(), sort_keys=False), end="")
