"""Stack policy: every resource group the stack creates is under a cost budget that alerts someone before
the money is spent: an enabled notification at or below 100 % of actual cost, to an action group of the
stack or an e-mail address."""

from collections.abc import Iterator, Sequence
from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies.props import at, items, number
from infra.policies.stack_resources import depends_on, mapping, name_of, of_type, setting

RESOURCE_GROUP: Final = "azure-native:resources:ResourceGroup"
BUDGET: Final = "azure-native:consumption:Budget"
ACTION_GROUP: Final = "azure-native:monitor:ActionGroup"


def _covers(budget: PolicyResource, group_name: str) -> bool:
    """A budget on the group itself, or on the subscription filtered to a list that names the group."""
    scope = setting(budget, "scope")
    if not isinstance(scope, str):
        return False
    if scope.lower().rstrip("/").endswith(f"/resourcegroups/{group_name.lower()}"):
        return True
    dimensions = setting(budget, "filter.dimensions")
    return (
        at(dimensions, "name") == "ResourceGroupName"
        and at(dimensions, "operator") == "In"
        and group_name.lower() in {str(value).lower() for value in items(at(dimensions, "values"))}
    )


def _alerts_in_time(budget: PolicyResource, action_groups: Sequence[PolicyResource]) -> bool:
    for notification in mapping(setting(budget, "notifications")).values():
        threshold = number(at(notification, "threshold"))
        actual = at(notification, "thresholdType") in (None, "Actual")
        reaches = (
            items(at(notification, "contactGroups")) and any(depends_on(budget, g) for g in action_groups)
        ) or (items(at(notification, "contactEmails")))
        if (
            at(notification, "enabled") is True
            and actual
            and threshold is not None
            and threshold <= 100
            and reaches
        ):
            return True
    return False


def _problems(
    group: PolicyResource, budgets: Sequence[PolicyResource], action_groups: Sequence[PolicyResource]
) -> Iterator[str]:
    name = setting(group, "resourceGroupName")
    covering = [b for b in budgets if isinstance(name, str) and _covers(b, name)]
    if not covering:
        yield "no cost budget covers it"
        return
    amounts = [number(setting(b, "amount")) for b in covering]
    if not any(amount is not None and amount > 0 for amount in amounts):
        yield f"its budget has no amount ({amounts})"
    if not any(_alerts_in_time(b, action_groups) for b in covering):
        yield (
            "its budget alerts nobody before the money is spent: it needs an enabled notification at or "
            "below 100 % of actual cost to an action group of this stack or an e-mail address"
        )


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    budgets = of_type(args.resources, BUDGET)
    action_groups = of_type(args.resources, ACTION_GROUP)
    for group in of_type(args.resources, RESOURCE_GROUP):
        for problem in _problems(group, budgets, action_groups):
            report_violation(f"{name_of(group)}: {problem}", group.urn)


BUDGET_POLICY: Final = StackValidationPolicy(
    name="budget-per-environment",
    description=(
        "Every resource group is under a cost budget with an amount that alerts an action group or an e-mail "
        "address at or below 100 % of actual cost."
    ),
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
