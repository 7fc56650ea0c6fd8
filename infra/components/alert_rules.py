"""The environment's log search alert rules (infra/alerts.py), each sending to the environment's action group.

The rules run their queries with one user-assigned identity that holds Reader on the Log Analytics workspace
and nothing else. Without an identity a rule runs with the permissions of whoever last edited it, here the
deploy identity (Contributor on the subscription), and stops working when that changes; a system-assigned
identity exists only once its rule does, so its first evaluations would run before any grant. A user-assigned
identity is created and granted first, and serves every rule ("Before you create the alert rule, you create
an identity and assign it appropriate permissions for the log query ... You can use one identity in multiple
alert rules"; "the identity must be assigned a reader role for all workspaces that the query accesses":
learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule, Identity). Reader is the
narrowest built-in role with `Microsoft.OperationalInsights/workspaces/query/*/read`; Log Analytics Reader
and Monitoring Reader add search and export actions the rules never run.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

from infra import roles
from infra.alerts import AlertRule, iso_duration
from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role, user_assigned_identity

# Log search alerts: ScheduledQueryRule of kind LogAlert (API 2025-01-01-preview in pulumi-azure-native 3).
LOG_ALERT = "LogAlert"
WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"
ALERT_READER_ROLE = roles.READER


@dataclass(frozen=True)
class AlertRulesArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    identity_name: str
    workspace_id: pulumi.Input[str]
    action_group_id: pulumi.Input[str]
    rules: Sequence[AlertRule]
    tags: Mapping[str, str]


class AlertRules(pulumi.ComponentResource):
    rule_ids: Mapping[str, pulumi.Output[str]]
    identity_principal_id: pulumi.Output[str]

    def __init__(self, name: str, args: AlertRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:AlertRules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = user_assigned_identity(
            f"{name}-identity",
            resource_name=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=child,
        )
        reader = grant_role(
            f"{name}-workspace-reader",
            principal_id=identity.principal_id,
            role_definition_id=roles.definition_id(args.subscription_id, ALERT_READER_ROLE),
            scope=args.workspace_id,
            description="the environment's log search alert rules run their queries on this workspace",
            opts=child,
        )
        rule_ids: dict[str, pulumi.Output[str]] = {}
        for rule in args.rules:
            created = monitor.ScheduledQueryRule(
                f"{name}-{rule.name}",
                rule_name=rule.name,
                display_name=rule.name,
                description=rule.description,
                resource_group_name=args.resource_group_name,
                location=args.location,
                kind=LOG_ALERT,
                enabled=True,
                severity=rule.severity,
                evaluation_frequency=iso_duration(rule.frequency),
                window_size=iso_duration(rule.window),
                auto_mitigate=rule.auto_mitigate,
                scopes=[args.workspace_id],
                target_resource_types=[WORKSPACE_TYPE],
                criteria=monitor.ScheduledQueryRuleCriteriaArgs(
                    all_of=[
                        monitor.ConditionArgs(
                            query=rule.query,
                            time_aggregation=rule.time_aggregation,
                            metric_measure_column=rule.measure,
                            operator=rule.operator,
                            threshold=rule.threshold,
                            dimensions=[
                                monitor.DimensionArgs(name=dimension, operator="Include", values=["*"])
                                for dimension in rule.dimensions
                            ],
                            failing_periods=monitor.ConditionFailingPeriodsArgs(
                                number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                            ),
                        )
                    ]
                ),
                identity=monitor.MicrosoftCommonIdentityArgs(
                    type="UserAssigned", user_assigned_identities=[identity.id]
                ),
                actions=monitor.ActionsArgs(
                    action_groups=[args.action_group_id], custom_properties={"project": rule.slug}
                ),
                tags={**args.tags, "project-slug": rule.slug},
                # The identity reads the workspace before the first evaluation.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[reader]),
            )
            rule_ids[rule.name] = created.id
        self.rule_ids = rule_ids
        self.identity_principal_id = identity.principal_id
        self.register_outputs({"rule_ids": rule_ids, "identity_principal_id": self.identity_principal_id})
