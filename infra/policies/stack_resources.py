"""Reading a stack's resources inside a stack policy: names, settings and which resource an input refers to.

Which resource a reference input (a private endpoint's target, a diagnostic setting's resourceUri) points
at is the engine's property dependencies of that input. The offline check has only each resource's
dependencies, and the reference's value, which is known there: the referred resource is a dependency
whose Azure name is a segment of that value.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Final

import pulumi.runtime
from pulumi_policy import PolicyResource

from infra.policies.props import at, short_type

# Kinds whose name input is not `<kind>Name` (pulumi-azure-native's resource signatures).
_NAME_INPUTS: Final = {
    "StorageAccount": "accountName",
    "ManagedCluster": "resourceName",
    "PublicIPAddress": "publicIpAddressName",
}


def azure_name(resource: PolicyResource) -> Any:
    """The resource's name in Azure, the last segment of its id: its name input, None if not declared."""
    kind = resource.resource_type.rpartition(":")[2]
    return at(resource.props, _NAME_INPUTS.get(kind, f"{kind[0].lower()}{kind[1:]}Name"))


def name_of(resource: PolicyResource) -> str:
    return f"{short_type(resource.resource_type)} '{resource.name}'"


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [resource for resource in resources if resource.resource_type in types]


def stack_flag(key: str) -> bool | None:
    """A boolean setting of the stack's config as the engine hands it to the pack; None when unset."""
    raw = pulumi.runtime.get_config(key)
    return None if raw is None else str(raw).lower() == "true"


def depends_on(resource: PolicyResource, other: PolicyResource) -> bool:
    return any(dependency.urn == other.urn for dependency in resource.dependencies)


def refers_to(resource: PolicyResource, input_name: str, value: Any, target: PolicyResource) -> bool:
    """Whether `resource`'s input `input_name` (whose value is `value`) points at `target`."""
    by_property = resource.property_dependencies.get(input_name)
    if by_property:
        return any(dependency.urn == target.urn for dependency in by_property)
    name = azure_name(target)
    return (
        depends_on(resource, target)
        and isinstance(value, str)
        and isinstance(name, str)
        and name in value.split("/")
    )


def setting(resource: PolicyResource, path: str) -> Any:
    return at(resource.props, path)


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
