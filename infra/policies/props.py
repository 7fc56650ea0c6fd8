"""Reading provider wire inputs (camelCase, as in the provider schema) inside a policy.

Under the real engine the inputs are pulumi_policy proxies (Mapping and Sequence, not dict and
list); offline they are plain dicts. Both are read through the abstract types here. A setting that is
not declared reads as None: the policies treat it as not proven, because Azure's default for most
of these settings is the insecure one and an API-version change can move it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ResourceValidationArgs


def at(props: Any, path: str) -> Any:
    """The value at a dotted path such as "properties.enablePurgeProtection", None where a step is missing."""
    value = props
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list[Any]:
    """The elements of a list input; an undeclared list reads as empty."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def number(value: Any) -> float | None:
    """Numbers travel as floats on the wire; booleans are not numbers here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def label(args: ResourceValidationArgs) -> str:
    """How a violation names its resource: the type token without the provider, and the logical name."""
    return f"{short_type(args.resource_type)} '{args.name}'"


def short_type(resource_type: str) -> str:
    """The type token as a reader knows it: keyvault:Vault for azure-native, VariableGroup for azuredevops."""
    provider, _, rest = resource_type.partition(":")
    if provider == "azuredevops":
        return rest.rpartition(":")[2]
    return rest
