"""The environment's Azure Monitor workbook, as data: per onboarded project, the live model version,
latency (p50, p95), throughput, errors, the PSI trend and the drift verdicts, inference records written
and dropped, pipeline failures, and the last training's metrics and data version.

Every query reads the telemetry contract's names (infra/telemetry.py) in a Log Analytics workspace (the
`App*` tables): this environment's, and for training the first environment's, where models are trained and
registered. The document follows the workbook schema (Notebook/1.0,
vendor/azure-monitor/workbook.schema.json); `queries()` gives every KQL query for the Kusto check.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from infra import telemetry

VERSION: Final = "Notebook/1.0"
SCHEMA: Final = "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json"
CATEGORY: Final = "workbook"
WORKSPACE_TYPE: Final = "microsoft.operationalinsights/workspaces"
TIME_RANGE: Final = "TimeRange"
DAY_MS: Final = 24 * 60 * 60 * 1000
# Item types of the schema's definitions: markdown 1, query 3, parameters 9.
_MARKDOWN, _QUERY, _PARAMETERS = 1, 3, 9
# Training happens weeks apart: its panel looks further back than the chosen time range.
TRAINING_LOOKBACK_DAYS: Final = 90


def resource_name(prefix: str, environment: str) -> str:
    """Workbook resource names are GUIDs (Microsoft.Insights/workbooks: "The value must be an UUID"); a
    name derived from the environment keeps it stable across runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mlops-platform/{prefix}/{environment}/workbook"))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def project_queries(slug: str) -> dict[str, tuple[str, str, str]]:
    """{key: (title, visualization, KQL)} of one project's panels, on this environment's workspace."""
    role = f"{telemetry.ROLE_COLUMN} == {_quote(telemetry.role_name(slug))}"
    requests = f"{telemetry.REQUESTS_TABLE}\n| where {role}"
    version = f"tostring(Properties.{telemetry.MODEL_VERSION})"
    return {
        "model-version": (
            "Live model version (requests answered per version)",
            "table",
            f"{requests}\n| summarize Requests = sum(ItemCount), LastSeen = max(TimeGenerated) "
            f"by ModelVersion = {version}\n| order by LastSeen desc",
        ),
        "latency": (
            "Latency (ms)",
            "timechart",
            f"{requests}\n| summarize p50 = percentile(DurationMs, 50), p95 = percentile(DurationMs, 95) "
            "by bin(TimeGenerated, 15m)",
        ),
        "throughput": (
            "Throughput (requests per 15 minutes)",
            "timechart",
            f"{requests}\n| summarize Requests = sum(ItemCount) by bin(TimeGenerated, 15m)",
        ),
        "errors": (
            "Errors (responses per 15 minutes)",
            "timechart",
            f"{requests}\n| extend Status = toint(ResultCode)\n"
            "| summarize ServerErrors = sumif(ItemCount, Status >= 500), "
            "ClientErrors = sumif(ItemCount, Status >= 400 and Status < 500) by bin(TimeGenerated, 15m)",
        ),
        "psi": (
            "PSI per feature and of the prediction, per drift check",
            "linechart",
            f"{telemetry.METRICS_TABLE}\n| where {role} and Name == {_quote(telemetry.DRIFT_PSI.name)}\n"
            "| summarize PSI = max(Max) by bin(TimeGenerated, 1d), Feature = tostring(Properties.feature)",
        ),
        "drift-checks": (
            "Drift checks",
            "table",
            f"{telemetry.EVENTS_TABLE}\n| where {role} and Name == {_quote(telemetry.DRIFT_CHECKED.name)}\n"
            "| project TimeGenerated, Outcome = tostring(Properties.outcome), "
            f"ModelVersion = {version}, Records = todouble(Measurements.records), "
            "MaxPsi = todouble(Measurements.max_psi)\n| order by TimeGenerated desc",
        ),
        "inference-records": (
            "Inference records written and dropped",
            "timechart",
            f"{telemetry.METRICS_TABLE}\n| where {role} and Name in "
            f"({_quote(telemetry.INFERENCE_RECORDS_WRITTEN.name)}, "
            f"{_quote(telemetry.INFERENCE_RECORDS_DROPPED.name)})\n"
            "| summarize Records = sum(Sum) by bin(TimeGenerated, 15m), Name",
        ),
        "pipeline-failures": (
            "Failed pipeline runs",
            "table",
            f"{telemetry.EVENTS_TABLE}\n| where {role} and Name == {_quote(telemetry.PIPELINE_FAILED.name)}\n"
            "| project TimeGenerated, Pipeline = tostring(Properties.pipeline), "
            "Stages = tostring(Properties.stages), RunUrl = tostring(Properties.run_url)\n"
            "| order by TimeGenerated desc",
        ),
    }


def training_query(slug: str) -> str:
    """The last registered model: its version, data version and evaluation metrics (first environment)."""
    role = f"{telemetry.ROLE_COLUMN} == {_quote(telemetry.role_name(slug))}"
    return (
        f"{telemetry.EVENTS_TABLE}\n| where {role} and Name == {_quote(telemetry.MODEL_TRAINED.name)}\n"
        "| summarize arg_max(TimeGenerated, *)\n"
        "| project TrainedAt = TimeGenerated, "
        f"ModelVersion = tostring(Properties.{telemetry.MODEL_VERSION}), "
        "DataVersion = tostring(Properties.data_version), Champion = tostring(Properties.champion), "
        "Metrics = Measurements"
    )


def queries(slugs: Sequence[str]) -> dict[str, str]:
    """Every KQL query of the workbook, by item name."""
    found = {
        f"{slug}-{key}": query
        for slug in slugs
        for key, (_title, _visualization, query) in project_queries(slug).items()
    }
    found.update({f"{slug}-training": training_query(slug) for slug in slugs})
    return found


def _query_item(name: str, title: str, visualization: str, query: str, workspace_id: str) -> dict[str, Any]:
    return {
        "type": _QUERY,
        "name": name,
        "content": {
            "version": "KqlItem/1.0",
            "query": query,
            "size": 0,
            "title": title,
            "queryType": 0,
            "resourceType": WORKSPACE_TYPE,
            "crossComponentResources": [workspace_id],
            "visualization": visualization,
            "timeContextFromParameter": TIME_RANGE,
            "timeContext": {"durationMs": DAY_MS},
        },
        "customWidth": "50",
    }


def document(
    environment: str, slugs: Sequence[str], workspace_id: str, training_workspace_id: str
) -> dict[str, Any]:
    """The workbook (serializedData) of one environment."""
    items: list[dict[str, Any]] = [
        {
            "type": _MARKDOWN,
            "name": "title",
            "content": {
                "json": (
                    f"# ML services in {environment}\n"
                    "Requests, metrics and events the projects' services and pipelines send to Application "
                    "Insights (the platform's telemetry contract). Training panels read the first "
                    "environment, where models are trained."
                )
            },
        },
        {
            "type": _PARAMETERS,
            "name": "parameters",
            "content": {
                "version": "KqlParameterItem/1.0",
                "parameters": [
                    {
                        "id": "time-range",
                        "version": "KqlParameterItem/1.0",
                        "name": TIME_RANGE,
                        "type": 4,
                        "isRequired": True,
                        "value": {"durationMs": DAY_MS},
                        "typeSettings": {"allowCustom": True},
                    }
                ],
                "style": "pills",
                "queryType": 0,
                "resourceType": WORKSPACE_TYPE,
            },
        },
    ]
    for slug in slugs:
        items.append({"type": _MARKDOWN, "name": f"{slug}-title", "content": {"json": f"## {slug}"}})
        for key, (title, visualization, query) in project_queries(slug).items():
            items.append(_query_item(f"{slug}-{key}", title, visualization, query, workspace_id))
        training = _query_item(
            f"{slug}-training",
            f"Last training (last {TRAINING_LOOKBACK_DAYS} days): model, data version, metrics",
            "table",
            training_query(slug),
            training_workspace_id,
        )
        del training["content"]["timeContextFromParameter"]
        training["content"]["timeContext"] = {"durationMs": TRAINING_LOOKBACK_DAYS * DAY_MS}
        items.append(training)
    return {
        "version": VERSION,
        "items": items,
        "fallbackResourceIds": [workspace_id],
        "$schema": SCHEMA,
    }


def display_name(prefix: str, environment: str) -> str:
    return f"{prefix}-{environment} ML services"


def item_queries(serialized: Mapping[str, Any]) -> dict[str, str]:
    """The KQL of every query item of a workbook document, by item name (what the Kusto check reads)."""
    return {item["name"]: item["content"]["query"] for item in serialized["items"] if item["type"] == _QUERY}
