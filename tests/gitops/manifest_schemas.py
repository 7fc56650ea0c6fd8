"""Schema validation of Kubernetes objects, offline.

Kubernetes' own kinds go through `kubernetes-validate` in strict mode, with its bundled schemas for one
Kubernetes version. Flux and Flagger kinds go through the `openAPIV3Schema` of their CRDs, vendored in
`vendor/crds` (pinned upstream releases, see its README), made strict the way the API server's strict
field validation is: an unknown field is an error unless the schema preserves unknown fields there. An
object that neither knows is an error too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "vendor" / "crds"


class SchemaMissingError(RuntimeError):
    """A validator's schemas are not where the tests expect them."""


def _strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` wherever it lists properties and keeps no others."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in strict
        and "additionalProperties" not in strict
        and not strict.get("x-kubernetes-preserve-unknown-fields", False)
    ):
        strict["additionalProperties"] = False
    return strict


@dataclass(frozen=True)
class CrdSchemas:
    """Validators for every (apiVersion, kind) that the CRDs of a directory serve."""

    validators: Mapping[tuple[str, str], jsonschema.protocols.Validator]

    @classmethod
    def load(cls, directory: Path = CRD_DIR) -> CrdSchemas:
        files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
        if not files:
            raise SchemaMissingError(
                f"no CRD manifests in {directory}: the Flux and Flagger CRDs belong in vendor/crds "
                "(`make vendor-refresh` downloads the pinned releases)"
            )
        validators = {}
        for path in files:
            for crd in yaml.safe_load_all(path.read_text()):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group = crd["spec"]["group"]
                kind = crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    if not version.get("served", False):
                        continue
                    schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                    # OpenAPI v3.0 schemas are draft-4 shaped (boolean exclusiveMinimum and friends).
                    validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft4Validator(schema)
        return cls(validators)

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(api_version.split("/")[0] for api_version, _ in self.validators)

    def errors(self, obj: Mapping[str, Any]) -> Iterator[str]:
        validator = self.validators.get((obj["apiVersion"], obj["kind"]))
        if validator is None:
            yield f"no CRD in {CRD_DIR} serves {obj['apiVersion']} {obj['kind']}"
            return
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            yield f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"


def object_name(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata", {})
    namespace = metadata.get("namespace")
    return f"{obj.get('kind')}/{namespace + '/' if namespace else ''}{metadata.get('name')}"


def validation_errors(obj: Mapping[str, Any], crds: CrdSchemas, kubernetes_version: str) -> list[str]:
    """Every schema error of one object, each prefixed with the object's kind, namespace and name.

    Kubernetes kinds are checked against `kubernetes_version`, the cluster's: a field that only a newer
    version knows must not pass.
    """
    name = object_name(obj)
    if not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        return [f"{name}: apiVersion and kind are required"]
    if obj["apiVersion"].split("/")[0] in crds.groups:
        return [f"{name}: {error}" for error in crds.errors(obj)]
    try:
        kubernetes_validate.validate(dict(obj), kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(map(str, error.path)) or "<root>"
        return [f"{name}: {path}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{name}: {error.message}"]
    return []
