"""How a policy of this pack is built: a resource type filter, a function that names each broken rule."""

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from infra.policies.props import at, label

# Yields one line per broken rule of one resource, e.g. "purge protection must be on (... is False)".
Check = Callable[[Mapping[str, Any]], Iterator[str]]


def resource_policy(
    name: str, description: str, types: Collection[str], check: Check
) -> ResourceValidationPolicy:
    """A mandatory policy over the resources of `types`; each message starts with the resource it names."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in types:
            for broken in check(args.props):
                report_violation(f"{label(args)}: {broken}", None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def shown(value: Any) -> str:
    return "not set" if value is None else repr(value)


def require_flag(props: Mapping[str, Any], path: str, wanted: bool, rule: str) -> Iterator[str]:
    """Booleans are compared by identity: on the wire 0.0 == False, and a number is not a flag."""
    actual = at(props, path)
    if actual is not wanted:
        yield f"{rule} ({path} is {shown(actual)}, must be {wanted})"


def require_value(props: Mapping[str, Any], path: str, allowed: Collection[str], rule: str) -> Iterator[str]:
    actual = at(props, path)
    if actual not in allowed:
        yield f"{rule} ({path} is {shown(actual)}, must be {' or '.join(map(repr, allowed))})"
