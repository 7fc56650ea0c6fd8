"""Stack transformations that weaken one setting of one kind of resource, for the offline check's tests."""

import copy
from collections.abc import Mapping
from typing import Any

import pulumi

from infra.tools.mock_run import Transformation


def _child(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else pulumi.get(node, key)


def _replaced(node: Any, keys: list[str], value: Any) -> Any:
    """A copy of `node` with the Python input at `keys` replaced; *Args objects and dicts alike."""
    key, *rest = keys
    child = value if not rest else _replaced(_child(node, key), rest, value)
    if isinstance(node, Mapping):
        return {**node, key: child}
    replaced = copy.copy(node)
    pulumi.set(replaced, key, child)
    return replaced


def weaken(resource_type: str, path: str, value: Any) -> Transformation:
    """Sets the SDK (snake_case) input at the dotted `path` on every resource of `resource_type`."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != resource_type:
            return None
        return pulumi.ResourceTransformationResult(_replaced(args.props, path.split("."), value), args.opts)

    return transformation
