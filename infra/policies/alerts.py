"""Policies on alerting: someone hears of every alert.

- `action-group-notifies`: an action group is enabled and has at least one receiver (a disabled group, or
  one with no receiver, swallows every alert sent to it).
- `log-alert-rule-notifies`, `metric-alert-rule-notifies`: an alert rule is enabled and sends to an action
  group; a log search alert rule runs with a managed identity (without one it runs with the permissions of
  whoever last edited it: learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule).
- `environment-alerts-wired` (stack): an environment (a stack with Application Insights) has an action
  group, and every alert rule of the stack sends to an action group of the stack.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies.props import at, items
from infra.policies.rules import Check, require_flag, resource_policy, shown
from infra.policies.stack_resources import name_of, of_type, refers_to

ACTION_GROUP: Final = "azure-native:monitor:ActionGroup"
SCHEDULED_QUERY_RULE: Final = "azure-native:monitor:ScheduledQueryRule"
METRIC_ALERT: Final = "azure-native:monitor:MetricAlert"
APP_INSIGHTS: Final = "azure-native:applicationinsights:Component"
ALERT_RULES: Final = (SCHEDULED_QUERY_RULE, METRIC_ALERT)
# Every receiver list of an action group (pulumi-azure-native monitor.ActionGroup inputs).
RECEIVER_LISTS: Final = (
    "emailReceivers",
    "smsReceivers",
    "webhookReceivers",
    "itsmReceivers",
    "azureAppPushReceivers",
    "automationRunbookReceivers",
    "voiceReceivers",
    "logicAppReceivers",
    "azureFunctionReceivers",
    "armRoleReceivers",
    "eventHubReceivers",
    "incidentReceivers",
)


def action_group_ids(rule: PolicyResource | Mapping[str, Any], resource_type: str) -> list[Any]:
    """The action groups a rule sends to: `actions.actionGroups` of a log search alert rule, the
    `actionGroupId` of each of a metric alert's `actions`."""
    props = rule.props if isinstance(rule, PolicyResource) else rule
    if resource_type == METRIC_ALERT:
        return [at(action, "actionGroupId") for action in items(at(props, "actions"))]
    return items(at(props, "actions.actionGroups"))


def _action_group(props: Mapping[str, Any]) -> Iterator[str]:
    yield from require_flag(props, "enabled", True, "the action group must be enabled")
    if not any(items(at(props, receivers)) for receivers in RECEIVER_LISTS):
        yield "the action group has no receiver: alerts sent to it reach nobody"


def _alert_rule(resource_type: str) -> Check:
    def check(props: Mapping[str, Any]) -> Iterator[str]:
        yield from require_flag(props, "enabled", True, "the alert rule must be enabled")
        if not action_group_ids(props, resource_type):
            yield "the alert rule sends to no action group: it fires and nobody hears"
        if resource_type == SCHEDULED_QUERY_RULE:
            identity = at(props, "identity.type")
            if identity not in ("SystemAssigned", "UserAssigned"):
                yield (
                    "a log search alert rule runs with a managed identity, not with the permissions of "
                    f"whoever last edited it (identity.type is {shown(identity)})"
                )

    return check


def _problems(rule: PolicyResource, groups: Sequence[PolicyResource]) -> Iterator[str]:
    for target in action_group_ids(rule, rule.resource_type):
        if not any(refers_to(rule, "actions", target, group) for group in groups):
            yield f"it sends to {shown(target)}, which is not an action group of this stack"


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    groups = of_type(args.resources, ACTION_GROUP)
    if of_type(args.resources, APP_INSIGHTS) and not groups:
        for component in of_type(args.resources, APP_INSIGHTS):
            report_violation(
                f"{name_of(component)}: the environment has no action group: its alerts would reach nobody",
                component.urn,
            )
    for rule in of_type(args.resources, *ALERT_RULES):
        for problem in _problems(rule, groups):
            report_violation(f"{name_of(rule)}: {problem}", rule.urn)


ALERT_POLICIES: Final = (
    resource_policy(
        "action-group-notifies",
        "Action groups are enabled and have at least one receiver.",
        {ACTION_GROUP},
        _action_group,
    ),
    resource_policy(
        "log-alert-rule-notifies",
        "Log search alert rules are enabled, send to an action group and run with a managed identity.",
        {SCHEDULED_QUERY_RULE},
        _alert_rule(SCHEDULED_QUERY_RULE),
    ),
    resource_policy(
        "metric-alert-rule-notifies",
        "Metric alert rules are enabled and send to an action group.",
        {METRIC_ALERT},
        _alert_rule(METRIC_ALERT),
    ),
)

ALERTS_WIRED_POLICY: Final = StackValidationPolicy(
    name="environment-alerts-wired",
    description=(
        "An environment (a stack with Application Insights) has an action group, and every alert rule sends "
        "to an action group of the stack."
    ),
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
