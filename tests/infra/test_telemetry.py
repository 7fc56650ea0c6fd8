"""The telemetry contract: one document the shared stack exports, whose names the rules and the workbook
use, and which the template reads from platform.json."""

from infra import alerts, telemetry, workbook


def test_contract_lists_every_metric_and_event_once() -> None:
    document = telemetry.contract()
    assert set(document["metrics"]) == {metric.name for metric in telemetry.METRICS}
    assert set(document["events"]) == {event.name for event in telemetry.EVENTS}
    assert len(telemetry.METRICS) == len(document["metrics"]) and len(telemetry.EVENTS) == len(
        document["events"]
    )
    assert document["request_attributes"] == [telemetry.MODEL_NAME, telemetry.MODEL_VERSION]
    assert document["drift_outcomes"] == ["stable", "drift", "insufficient_data"]
    assert document["role"]["attribute"] == "service.name"


def test_every_metric_and_event_carries_the_model_or_the_run() -> None:
    for metric in telemetry.METRICS:
        assert {telemetry.MODEL_NAME, telemetry.MODEL_VERSION} <= set(metric.dimensions), metric.name
    assert {"pipeline", "run_url", "stages"} <= set(telemetry.PIPELINE_FAILED.properties)
    assert "data_version" in telemetry.MODEL_TRAINED.properties
    assert "threshold" in telemetry.DRIFT_PSI.dimensions


def test_every_contract_name_is_queried_by_a_rule_or_the_workbook() -> None:
    text = "\n".join(
        [rule.query for rule in alerts.project_rules("churn")] + list(workbook.queries(["churn"]).values())
    )
    unused = [item.name for item in (*telemetry.METRICS, *telemetry.EVENTS) if item.name not in text]
    assert unused == []
