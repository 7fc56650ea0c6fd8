"""The alert rules: built from the telemetry contract, valid for Azure, wired to the action group, and run by
an identity that may read exactly the workspace they query, granted before any rule exists."""

import datetime
from dataclasses import replace

import pytest

from infra import alerts, kql, roles, telemetry
from infra.components.alert_rules import ALERT_READER_ROLE, AlertRules, AlertRulesArgs
from infra.preflight.rbac import grants
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

RULE = "azure-native:monitor:ScheduledQueryRule"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
GROUP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev"
WORKSPACE = f"{GROUP_ID}/providers/Microsoft.OperationalInsights/workspaces/log-mlops-dev"
GROUP = f"{GROUP_ID}/providers/Microsoft.Insights/actionGroups/ag-mlops-dev"
SLUGS = ["credit-scoring", "churn"]


def build(rules: list[alerts.AlertRule]) -> AlertRules:
    return AlertRules(
        "alert-rules",
        AlertRulesArgs(
            resource_group_name="rg-mlops-dev",
            location="westeurope",
            subscription_id=SUBSCRIPTION,
            identity_name="id-mlops-dev-alerts",
            workspace_id=WORKSPACE,
            action_group_id=GROUP,
            rules=rules,
            tags=TAGS,
        ),
    )


def test_every_rule_is_enabled_sends_to_the_action_group_and_runs_as_the_reader(recorder: Recorder) -> None:
    rules = alerts.environment_rules(SLUGS)
    ids = resolve(lambda: build(rules).rule_ids)
    assert sorted(ids) == sorted(rule.name for rule in rules)
    declared = recorder.of_type(RULE)
    assert len(declared) == 6 * len(SLUGS)
    [identity] = recorder.of_type(IDENTITY)
    [reader] = recorder.of_type(ASSIGNMENT)
    assert reader.inputs["scope"] == WORKSPACE
    assert reader.inputs["principalId"] == "id-mlops-dev-alerts-principal-id"
    assert reader.inputs["roleDefinitionId"].endswith(roles.guid(ALERT_READER_ROLE))
    for rule in declared:
        inputs = rule.inputs
        assert inputs["enabled"] is True and inputs["kind"] == "LogAlert"
        assert inputs["actions"]["actionGroups"] == [GROUP]
        assert inputs["scopes"] == [WORKSPACE]
        assert inputs["identity"]["type"] == "UserAssigned"
        assert list(inputs["identity"]["userAssignedIdentities"]) == [identity.id]
        # Created after the grant: its first evaluation can already read the workspace.
        assert reader.urn in rule.dependencies


def test_the_reader_role_grants_every_query_and_nothing_to_write() -> None:
    role = roles.RoleDefinitions.load().by_name(ALERT_READER_ROLE)
    for table in kql.tables():
        assert grants(role, f"Microsoft.OperationalInsights/workspaces/query/{table}/read", data=False)
    assert grants(role, "Microsoft.OperationalInsights/workspaces/query/read", data=False)
    assert not grants(role, "Microsoft.OperationalInsights/workspaces/write", data=False)
    # The narrower choice: Log Analytics Reader adds search and export, which no rule runs.
    wider = roles.RoleDefinitions.load().by_name("Log Analytics Reader")
    assert set(role.actions) < set(wider.actions)


def test_rule_settings_reach_azure_as_iso_durations(recorder: Recorder) -> None:
    [latency] = [rule for rule in alerts.project_rules("churn") if rule.key == "latency-p95"]
    resolve(lambda: build([latency]).rule_ids)
    inputs = recorder.one(RULE).inputs
    assert (inputs["evaluationFrequency"], inputs["windowSize"]) == ("PT5M", "PT15M")
    assert inputs["autoMitigate"] is True and inputs["severity"] == alerts.WARNING
    [condition] = inputs["criteria"]["allOf"]
    assert condition["metricMeasureColumn"] == "P95" and condition["threshold"] == alerts.LATENCY_P95_MS
    assert condition["failingPeriods"] == {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_rule_passes_azures_rules_and_reads_its_projects_role(slug: str) -> None:
    for rule in alerts.project_rules(slug):
        assert list(alerts.problems(rule)) == []
        assert f'{telemetry.ROLE_COLUMN} == "{telemetry.role_name(slug)}"' in rule.query


def test_event_rules_are_stateless_and_read_what_arrived_since_their_last_run() -> None:
    events = [rule for rule in alerts.project_rules("churn") if "ingestion_time()" in rule.query]
    assert {rule.key for rule in events} == {"drift", "drift-no-data", "pipeline-failed"}
    for rule in events:
        assert not rule.auto_mitigate
        assert rule.frequency == alerts.EVENT_FREQUENCY < rule.window
        assert f"ago({int(rule.frequency.total_seconds() // 60)}m)" in rule.query


def test_a_pipeline_failure_alert_names_the_run() -> None:
    [failed] = [rule for rule in alerts.project_rules("churn") if rule.key == "pipeline-failed"]
    assert failed.dimensions == ("Pipeline", "Stages", "RunUrl")
    for dimension in failed.dimensions:
        assert f"{dimension} = " in failed.query


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"frequency": datetime.timedelta(seconds=30)}, "outside 1 minute to 1 day"),
        ({"window": datetime.timedelta(days=3)}, "longer than 2 days"),
        ({"window": datetime.timedelta(minutes=5)}, "shorter than its frequency"),
        ({"frequency": datetime.timedelta(minutes=1)}, "cannot use search, union, take or ingestion_time()"),
        ({"auto_mitigate": True}, "must be stateless"),
        ({"measure": "P99"}, "has no column P99"),
        ({"severity": 5}, "is not 0-4"),
    ],
)
def test_each_azure_rule_can_fail(change: dict, problem: str) -> None:
    [drift] = [rule for rule in alerts.project_rules("churn") if rule.key == "drift"]
    assert any(problem in found for found in alerts.problems(replace(drift, **change)))


def test_a_stateful_rule_must_run_at_least_every_twelve_hours() -> None:
    [latency] = [rule for rule in alerts.project_rules("churn") if rule.key == "latency-p95"]
    slow = replace(latency, frequency=datetime.timedelta(hours=13), window=datetime.timedelta(hours=13))
    assert any("every 12 hours" in found for found in alerts.problems(slow))
