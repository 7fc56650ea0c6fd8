"""The budget policy: every resource group is under a budget that alerts someone before it is spent."""

from typing import Any

import pytest
from pulumi_policy import PolicyResource

from infra.policies.costs import ACTION_GROUP, BUDGET, RESOURCE_GROUP
from tests.policies.support import policy, replaced, stack_resource, stack_violations

POLICY = policy("budget-per-environment")
GROUP = stack_resource(RESOURCE_GROUP, "resource-group", {"resourceGroupName": "rg-mlops-dev"})
ALERTS = stack_resource(ACTION_GROUP, "alerts", {"actionGroupName": "ag-mlops-dev"})
BUDGET_PROPS: dict[str, Any] = {
    "scope": "/subscriptions/00000000-0000-0000-0000-0000000000d1",
    "amount": 1500.0,
    "timeGrain": "Monthly",
    "filter": {
        "dimensions": {"name": "ResourceGroupName", "operator": "In", "values": ["rg-mlops-dev", "rg-x"]}
    },
    "notifications": {
        "actual-80": {
            "enabled": True,
            "threshold": 80.0,
            "thresholdType": "Actual",
            "contactGroups": ["/ag"],
            "contactEmails": [],
        }
    },
}


def budget(
    props: dict[str, Any] = BUDGET_PROPS, depends: list[PolicyResource] | None = None
) -> PolicyResource:
    return stack_resource(BUDGET, "budget", props, [ALERTS] if depends is None else depends)


def test_a_covered_group_with_an_alerting_budget_passes() -> None:
    assert stack_violations(POLICY, [GROUP, ALERTS, budget()]) == []


def test_a_budget_on_the_group_itself_covers_it() -> None:
    scoped = {
        **replaced(BUDGET_PROPS, "filter", ...),
        "scope": "/subscriptions/s/resourceGroups/RG-MLOPS-DEV",
    }
    assert stack_violations(POLICY, [GROUP, ALERTS, budget(scoped)]) == []


def test_an_uncovered_group_is_named() -> None:
    assert stack_violations(POLICY, [GROUP]) == [
        ("resources:ResourceGroup 'resource-group': no cost budget covers it", GROUP.urn)
    ]
    other = replaced(BUDGET_PROPS, "filter.dimensions.values", ["rg-mlops-qa"])
    [(message, _)] = stack_violations(POLICY, [GROUP, ALERTS, budget(other)])
    assert "no cost budget covers it" in message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("notifications", {}),
        ("notifications.actual-80.enabled", False),
        ("notifications.actual-80.threshold", 120.0),
        ("notifications.actual-80.thresholdType", "Forecasted"),
        ("notifications.actual-80.contactGroups", []),
    ],
)
def test_a_budget_that_alerts_nobody_in_time_is_named(path: str, value: object) -> None:
    [(message, urn)] = stack_violations(POLICY, [GROUP, ALERTS, budget(replaced(BUDGET_PROPS, path, value))])
    assert urn == GROUP.urn and "alerts nobody before the money is spent" in message


def test_a_contact_group_must_be_an_action_group_of_the_stack() -> None:
    [(message, _)] = stack_violations(POLICY, [GROUP, budget(depends=[])])
    assert "alerts nobody" in message


def test_an_email_is_a_contact_too() -> None:
    mailed = replaced(
        replaced(BUDGET_PROPS, "notifications.actual-80.contactGroups", []),
        "notifications.actual-80.contactEmails",
        ["a@contoso.com"],
    )
    assert stack_violations(POLICY, [GROUP, budget(mailed, depends=[])]) == []


def test_a_budget_of_nothing_is_named() -> None:
    [(message, _)] = stack_violations(POLICY, [GROUP, ALERTS, budget(replaced(BUDGET_PROPS, "amount", 0.0))])
    assert "has no amount" in message
