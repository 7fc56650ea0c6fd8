"""The validators behind the other gitops tests can fail: broken objects and missing tools are caught."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra import gitops
from tests.gitops import flux_render
from tests.gitops.flux_render import RenderError, substitute
from tests.gitops.manifest_schemas import CrdSchemas, SchemaMissingError, validation_errors

VERSION = "1.33"


@pytest.fixture(scope="module")
def crds() -> CrdSchemas:
    return CrdSchemas.load()


def kustomization(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "broken", "namespace": gitops.FLUX_NAMESPACE},
        "spec": {
            "interval": "1h",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": gitops.FLUX_SOURCE},
            **spec,
        },
    }


def builtin(api_version: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "broken"}, **fields}


def test_a_valid_kustomization_passes(crds: CrdSchemas) -> None:
    assert validation_errors(kustomization(dependsOn=[{"name": "platform-controllers"}]), crds, VERSION) == []


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        # A misspelt field: the API server would drop it silently, here it fails.
        (kustomization(dependOn=[{"name": "platform-controllers"}]), "'dependOn' was unexpected"),
        (kustomization(interval="hourly"), "does not match"),
        ({**kustomization(), "apiVersion": "kustomize.toolkit.fluxcd.io/v1beta1"}, "no CRD"),
        (builtin("v1", "ConfigMap", datta={"a": "b"}), "'datta' was unexpected"),
        (builtin("example.com/v1", "Widget"), "Couldn't find schema"),
    ],
    ids=["crd-unknown-field", "crd-pattern", "crd-unserved-version", "builtin-unknown-field", "unknown-kind"],
)
def test_invalid_objects_fail(crds: CrdSchemas, obj: dict[str, Any], expected: str) -> None:
    errors = validation_errors(obj, crds, VERSION)
    assert errors
    assert expected in errors[0]


def test_missing_crds_fail_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SchemaMissingError, match=r"vendor/crds"):
        CrdSchemas.load(tmp_path)


def test_missing_kubectl_fails_with_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flux_render.shutil, "which", lambda _: None)
    with pytest.raises(RenderError, match="Install it"):
        flux_render.kustomize_build(flux_render.REPO_ROOT / "gitops" / "infrastructure" / "policies")


def test_substitution_is_strict() -> None:
    assert substitute("a: ${x}\nb: ${y:=2}\n", {"x": "1"}) == "a: 1\nb: 2\n"
    with pytest.raises(RenderError, match="no value"):
        substitute("a: ${missing}", {})
    with pytest.raises(RenderError, match="unsupported"):
        substitute("a: $x", {"x": "1"})
