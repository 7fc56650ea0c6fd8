"""The stack policy on alerting: an environment has an action group, and every alert rule sends to one of
the stack's action groups."""

from pulumi_policy import PolicyResource

from infra.policies.alerts import ACTION_GROUP, APP_INSIGHTS, METRIC_ALERT, SCHEDULED_QUERY_RULE
from tests.policies.support import policy, stack_resource, stack_violations

POLICY = policy("environment-alerts-wired")
INSIGHTS = stack_resource(APP_INSIGHTS, "monitoring-appinsights", {"resourceName": "appi-mlops-dev"})
GROUP = stack_resource(ACTION_GROUP, "alerts-group", {"actionGroupName": "ag-mlops-dev"})
GROUP_ID = (
    "/subscriptions/s/resourceGroups/rg-mlops-dev/providers/Microsoft.Insights/actionGroups/ag-mlops-dev"
)
OTHER_ID = "/subscriptions/s/resourceGroups/rg-other/providers/Microsoft.Insights/actionGroups/ag-other"


def log_rule(target: str = GROUP_ID, depends: list[PolicyResource] | None = None) -> PolicyResource:
    return stack_resource(
        SCHEDULED_QUERY_RULE,
        "alert-rules-churn-latency-p95",
        {"ruleName": "churn-latency-p95", "actions": {"actionGroups": [target]}},
        [GROUP] if depends is None else depends,
    )


def test_an_environment_whose_rules_send_to_its_group_passes() -> None:
    metric = stack_resource(METRIC_ALERT, "m", {"actions": [{"actionGroupId": GROUP_ID}]}, [GROUP])
    assert stack_violations(POLICY, [INSIGHTS, GROUP, log_rule(), metric]) == []


def test_a_stack_without_application_insights_needs_no_group() -> None:
    assert stack_violations(POLICY, [stack_resource("azuredevops:index/project:Project", "p", {})]) == []


def test_an_environment_without_an_action_group_is_named() -> None:
    [(message, urn)] = stack_violations(POLICY, [INSIGHTS])
    assert urn == INSIGHTS.urn and "has no action group" in message


def test_a_rule_sending_elsewhere_is_named() -> None:
    [(message, urn)] = stack_violations(POLICY, [INSIGHTS, GROUP, log_rule(OTHER_ID, depends=[])])
    assert "ag-other" in message and "not an action group of this stack" in message
    assert urn.endswith("alert-rules-churn-latency-p95")


def test_a_rule_naming_the_group_without_depending_on_it_is_not_proven() -> None:
    # The group's name in an id typed by hand is not the stack's group: the reference must be the resource.
    [(message, _)] = stack_violations(POLICY, [INSIGHTS, GROUP, log_rule(depends=[])])
    assert "not an action group of this stack" in message


def test_a_metric_alert_sending_elsewhere_is_named() -> None:
    metric = stack_resource(METRIC_ALERT, "m", {"actions": [{"actionGroupId": OTHER_ID}]}, [])
    [(message, _)] = stack_violations(POLICY, [INSIGHTS, GROUP, metric])
    assert "monitor:MetricAlert 'm'" in message
