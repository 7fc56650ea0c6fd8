"""Stack policy: every resource that emits resource logs sends them, as infra/diagnostics.py selects them,
to a Log Analytics workspace of the stack. A setting counts as Azure's built-in policy counts it
("Resource logs should be enabled for Audit on supported resources"): the logs are enabled."""

from collections.abc import Iterator, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra import diagnostics
from infra.policies.props import at, items
from infra.policies.stack_resources import azure_name, depends_on, name_of, of_type, refers_to, setting

RESOURCE_URI: Final = "resourceUri"


def _enabled_logs(diagnostic: PolicyResource) -> set[str]:
    return {
        str(at(log, "categoryGroup") or at(log, "category"))
        for log in items(setting(diagnostic, "logs"))
        if at(log, "enabled") is True
    }


def _on(diagnostic: PolicyResource, resource: PolicyResource, sub_resource: str) -> bool:
    """Whether the setting is on `resource` itself ("") or on its sub-resource, e.g. blobServices/default."""
    uri: Any = setting(diagnostic, RESOURCE_URI)
    if not refers_to(diagnostic, RESOURCE_URI, uri, resource):
        return False
    if not isinstance(uri, str):
        return True  # not known yet in a first preview, where the property dependency decided
    path = uri.rstrip("/")
    return (
        path.endswith(f"/{sub_resource}") if sub_resource else path.rpartition("/")[2] == azure_name(resource)
    )


def _problems(
    resource: PolicyResource, settings: Sequence[PolicyResource], workspaces: Sequence[PolicyResource]
) -> Iterator[str]:
    for selection in diagnostics.DIAGNOSED[resource.resource_type]:
        where = f" of {selection.sub_resource}" if selection.sub_resource else ""
        wanted = {*selection.category_groups, *selection.categories}
        matching = [s for s in settings if _on(s, resource, selection.sub_resource)]
        if not matching:
            yield f"no diagnostic setting sends the logs{where} to Log Analytics"
            continue
        good = [
            s
            for s in matching
            if wanted <= _enabled_logs(s)
            and isinstance(setting(s, "workspaceId"), str)
            and any(depends_on(s, workspace) for workspace in workspaces)
        ]
        if not good:
            found = sorted(set().union(*(_enabled_logs(s) for s in matching)))
            yield (
                f"its diagnostic setting{where} must enable {', '.join(sorted(wanted))} into a Log Analytics "
                f"workspace of this stack (enabled: {', '.join(found) or 'none'})"
            )


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    settings = of_type(args.resources, diagnostics.DIAGNOSTIC_SETTING)
    workspaces = of_type(args.resources, diagnostics.LOG_ANALYTICS)
    for resource in of_type(args.resources, *diagnostics.DIAGNOSED):
        for problem in _problems(resource, settings, workspaces):
            report_violation(f"{name_of(resource)}: {problem}", resource.urn)


DIAGNOSTIC_SETTINGS_POLICY: Final = StackValidationPolicy(
    name="diagnostic-settings",
    description=(
        "Every resource with resource logs sends the selected logs (infra/diagnostics.py) to a Log Analytics "
        "workspace of the stack."
    ),
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
