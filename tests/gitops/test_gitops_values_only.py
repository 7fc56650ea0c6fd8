"""The three clusters differ only in values: same objects, same structure, other numbers and sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from infra import gitops
from infra.stacks import ENVIRONMENTS
from tests.gitops.flux_render import REPO_ROOT, ClusterRender
from tests.gitops.manifest_schemas import object_name

Shape = dict[str, "Shape"] | list["Shape"] | str


def shape(value: Any) -> Shape:
    """The structure of a document: its keys and list lengths, and for each scalar only its type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def structural_differences(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[str]:
    left_shapes = {object_name(obj): shape(obj) for obj in left}
    right_shapes = {object_name(obj): shape(obj) for obj in right}
    differences = [f"only one side has {name}" for name in sorted(left_shapes.keys() ^ right_shapes.keys())]
    differences += [
        f"{name} has another structure"
        for name in sorted(left_shapes.keys() & right_shapes.keys())
        if left_shapes[name] != right_shapes[name]
    ]
    return differences


def entry_point(environment: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / gitops.cluster_path(environment) / "kustomization.yaml").read_text())


REFERENCE, *OTHERS = ENVIRONMENTS


@pytest.mark.parametrize("environment", OTHERS)
def test_entry_points_differ_only_in_literal_values(environment: str) -> None:
    reference, other = entry_point(REFERENCE), entry_point(environment)
    assert shape(reference) == shape(other)

    def keys(entry: dict[str, Any]) -> list[str]:
        return [literal.split("=")[0] for literal in entry["configMapGenerator"][0]["literals"]]

    assert keys(reference) == keys(other)
    assert {key: value for key, value in reference.items() if key != "configMapGenerator"} == {
        key: value for key, value in other.items() if key != "configMapGenerator"
    }


@pytest.mark.parametrize("environment", OTHERS)
def test_rendered_clusters_differ_only_in_values(
    environment: str, rendered: Callable[[str], ClusterRender]
) -> None:
    reference = rendered(REFERENCE).objects()
    other = rendered(environment).objects()
    assert not structural_differences(reference, other)
    # ... and they do differ: the values are the point of having three clusters.
    assert reference != other


def test_a_structural_difference_is_reported(rendered: Callable[[str], ClusterRender]) -> None:
    objects = rendered(REFERENCE).objects()
    changed = yaml.safe_load(yaml.safe_dump(objects))
    changed[1]["spec"]["suspend"] = True
    assert structural_differences(objects, changed) == [f"{object_name(objects[1])} has another structure"]
    assert structural_differences(objects, objects[:-1]) == [f"only one side has {object_name(objects[-1])}"]
