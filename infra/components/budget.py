"""The environment's monthly cost budget: alerts at rising shares of actual cost and at the forecast
reaching the whole budget, sent to the environment's action group."""

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import consumption

from infra.components import TYPE_PREFIX

# Every alert fires again when forecast cost reaches the whole budget, before it is spent.
FORECAST_THRESHOLD = 100


def first_of_month(today: datetime.date) -> str:
    """The budget's start date. Azure wants the first of a month, and a past start date only within the
    current time grain (consumption Budget API, timePeriod): for a monthly budget, this month."""
    return today.replace(day=1).isoformat() + "T00:00:00Z"


@dataclass(frozen=True)
class BudgetArgs:
    subscription_id: str
    budget_name: str
    amount: int
    # Costs land in the environment's group and in the group AKS keeps its nodes in.
    resource_group_names: Sequence[str]
    start_date: str
    actual_thresholds: Sequence[int]
    # The stack's action group; None where the stack has none (the bootstrap stack alerts e-mails only).
    action_group_id: pulumi.Input[str] | None
    emails: Sequence[str]


class Budget(pulumi.ComponentResource):
    budget_id: pulumi.Output[str]

    def __init__(self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Budget", name, None, opts)

        def notify(threshold: int, kind: str) -> consumption.NotificationArgs:
            return consumption.NotificationArgs(
                enabled=True,
                operator="GreaterThanOrEqualTo",
                threshold=threshold,
                threshold_type=kind,
                contact_groups=[args.action_group_id] if args.action_group_id is not None else [],
                contact_emails=list(args.emails),
            )

        notifications: Mapping[str, consumption.NotificationArgs] = {
            **{f"actual-{threshold}": notify(threshold, "Actual") for threshold in args.actual_thresholds},
            f"forecast-{FORECAST_THRESHOLD}": notify(FORECAST_THRESHOLD, "Forecasted"),
        }
        budget = consumption.Budget(
            f"{name}-monthly",
            budget_name=args.budget_name,
            # Subscription scope with a resource-group filter: one budget covers both of the environment's
            # groups, and its name still never meets another environment's in a shared subscription.
            scope=f"/subscriptions/{args.subscription_id}",
            amount=args.amount,
            category="Cost",
            time_grain="Monthly",
            time_period=consumption.BudgetTimePeriodArgs(start_date=args.start_date),
            filter=consumption.BudgetFilterArgs(
                dimensions=consumption.BudgetComparisonExpressionArgs(
                    name="ResourceGroupName", operator="In", values=list(args.resource_group_names)
                )
            ),
            notifications=notifications,
            # The start date is set once: later runs must not move it past the month Azure accepts.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod"]),
        )
        self.budget_id = budget.id
        self.register_outputs({"budget_id": self.budget_id})
