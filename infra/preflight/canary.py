"""Canary analysis needs traffic, through the ingress whose metrics it reads.

Flagger's built-in `request-success-rate` and `request-duration` checks query the NGINX controller's request
metrics for the canary's ingress; with no requests there are no samples, each interval counts as a failed
check and the canary rolls back once the threshold is reached (fluxcd/flagger#1035; Flagger docs, "Webhooks").
So every Canary with metrics must have a `rollout` webhook served by a load tester the same overlay deploys,
whose command sends requests to the ingress controller.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from infra.preflight.checks import Entry, Grant

INGRESS_CONTROLLER = "ingress-nginx-controller.ingress-nginx"


class RenderError(RuntimeError):
    """kubectl is missing or kustomize refused an overlay."""


def kustomize(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RenderError("kubectl is not on PATH: install it (it carries kustomize) to render the overlays")
    completed = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RenderError(f"kubectl kustomize {directory}: {completed.stderr.strip()}")
    return [obj for obj in yaml.safe_load_all(completed.stdout) if obj]


def traffic_problems(objects: list[Mapping[str, Any]]) -> Iterator[tuple[str, Grant | None, str]]:
    """(canary, grant, problem) for every Canary of one rendered overlay."""
    services = {
        f"{obj['metadata']['name']}.{obj['metadata'].get('namespace', '')}".rstrip(".")
        for obj in objects
        if obj.get("kind") == "Service"
    }
    for canary in (obj for obj in objects if obj.get("kind") == "Canary"):
        name = canary["metadata"]["name"]
        analysis = canary.get("spec", {}).get("analysis", {})
        if not analysis.get("metrics"):
            continue
        rollout = [
            hook for hook in analysis.get("webhooks") or [] if hook.get("type", "rollout") == "rollout"
        ]
        if not rollout:
            yield name, None, "no rollout webhook sends traffic during the analysis: it would find no samples"
            continue
        for hook in rollout:
            host = urlparse(hook.get("url", "")).hostname or ""
            command = str(hook.get("metadata", {}).get("cmd", ""))
            if host not in services:
                yield name, None, f"webhook {hook.get('name')}: no load tester service {host} in this overlay"
            elif INGRESS_CONTROLLER not in command:
                yield (
                    name,
                    None,
                    f"webhook {hook.get('name')}: its traffic bypasses the ingress the metrics read",
                )
            else:
                yield name, Grant("rollout webhook", f"{hook.get('name')}: {host}"), ""


def check_canaries(project_root: Path, label: str, stacks: Mapping[str, bool]) -> Iterator[Entry]:
    """Entries for every protected environment's overlay of an AKS project (`stacks`: environment ->
    protected)."""
    overlays = project_root / "deploy" / "overlays"
    for environment, protected in stacks.items():
        if not protected or not (overlays / environment).is_dir():
            continue
        for canary, grant, problem in traffic_problems(kustomize(overlays / environment)):
            yield Entry(
                stack=environment,
                pipeline=f"{label} deploy/overlays/{environment}",
                stage="canary analysis",
                step=f"Canary {canary}",
                identity="Flagger",
                operation="send traffic through the ingress during the analysis",
                resource=f"Canary {canary}",
                granted_by=grant,
                problem=problem,
            )
