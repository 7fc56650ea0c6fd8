import datetime
from collections.abc import Mapping
from typing import Any

import pytest

from infra.components.budget import FORECAST_THRESHOLD, Budget, BudgetArgs, first_of_month
from tests.infra.component_mocks import SUBSCRIPTION, Recorder, resolve

BUDGET = "azure-native:consumption:Budget"
ACTION_GROUP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/ag-mlops-dev"


def build(thresholds: tuple[int, ...] = (50, 80, 100)) -> Budget:
    return Budget(
        "budget",
        BudgetArgs(
            subscription_id=SUBSCRIPTION,
            budget_name="budget-mlops-dev",
            amount=1500,
            resource_group_names=["rg-mlops-dev", "rg-mlops-dev-aks-nodes"],
            start_date="2026-03-01T00:00:00Z",
            actual_thresholds=thresholds,
            action_group_id=ACTION_GROUP,
            emails=["ml-platform@contoso.com"],
        ),
    )


def assert_alerts_the_action_group(notifications: Mapping[str, Any]) -> None:
    assert notifications, "a budget without notifications alerts nobody"
    for notification in notifications.values():
        assert notification["enabled"] is True
        assert notification["contactGroups"] == [ACTION_GROUP]


def test_monthly_cost_budget_over_both_resource_groups(recorder: Recorder) -> None:
    resolve(lambda: build().budget_id)
    budget = recorder.one(BUDGET).inputs
    assert (budget["category"], budget["timeGrain"], budget["amount"]) == ("Cost", "Monthly", 1500)
    assert budget["scope"] == f"/subscriptions/{SUBSCRIPTION}"
    assert budget["filter"]["dimensions"] == {
        "name": "ResourceGroupName",
        "operator": "In",
        "values": ["rg-mlops-dev", "rg-mlops-dev-aks-nodes"],
    }
    assert budget["timePeriod"] == {"startDate": "2026-03-01T00:00:00Z"}


def test_actual_thresholds_and_the_forecast_alert_the_action_group(recorder: Recorder) -> None:
    resolve(lambda: build((50, 90)).budget_id)
    notifications = recorder.one(BUDGET).inputs["notifications"]
    assert {key: (n["threshold"], n["thresholdType"]) for key, n in notifications.items()} == {
        "actual-50": (50, "Actual"),
        "actual-90": (90, "Actual"),
        f"forecast-{FORECAST_THRESHOLD}": (100, "Forecasted"),
    }
    assert_alerts_the_action_group(notifications)
    assert all(n["contactEmails"] == ["ml-platform@contoso.com"] for n in notifications.values())


def test_the_start_date_is_set_once(recorder: Recorder) -> None:
    resolve(lambda: build().budget_id)
    assert list(recorder.request(BUDGET).ignoreChanges) == ["timePeriod"]


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (datetime.date(2026, 3, 17), "2026-03-01T00:00:00Z"),
        (datetime.date(2026, 1, 1), "2026-01-01T00:00:00Z"),
        (datetime.date(2024, 2, 29), "2024-02-01T00:00:00Z"),
    ],
)
def test_start_date_is_the_first_of_the_current_month(today: datetime.date, start: str) -> None:
    assert first_of_month(today) == start


def test_check_rejects_a_notification_to_nobody() -> None:
    with pytest.raises(AssertionError):
        assert_alerts_the_action_group({"actual-80": {"enabled": True, "contactGroups": []}})
