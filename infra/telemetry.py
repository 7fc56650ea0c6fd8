"""The telemetry contract: what the projects' services and pipelines send to their environment's Application
Insights, and what the platform's alert rules and workbook query. One source of truth: the shared stack
exports `contract()` (platform.json `platform_shared.telemetry`), the template reads its names from there,
and infra/alerts.py and infra/workbook.py build every query from the constants below.

Where the names land (workspace-based Application Insights, learn.microsoft.com/azure/azure-monitor/app/
convert-classic-resource, "Table schemas"; vendored in vendor/azure-monitor/app-tables.json):

| sent as | Log Analytics workspace (what rules and workbooks query) | classic App Insights scope |
| --- | --- | --- |
| OpenTelemetry server spans | `AppRequests`: DurationMs, ResultCode, Success, ItemCount | `requests` |
| OpenTelemetry metrics (counters, gauges) | `AppMetrics`: Name, Sum, Min, Max, ItemCount | `customMetrics` |
| custom events (`track` API, pipelines) | `AppEvents`: Name, Measurements | `customEvents` |
| span / metric attributes, event properties | `Properties` (dynamic) | `customDimensions` |
| the cloud role (OpenTelemetry `service.name`) | `AppRoleName` | `cloud_RoleName` |

The role name of everything a project sends is its slug: the Azure Monitor OpenTelemetry distro sets the
cloud role name from the resource attributes `service.namespace` and `service.name`, and from `service.name`
alone when no namespace is set (learn.microsoft.com/azure/azure-monitor/app/opentelemetry-configuration,
"Set the Cloud Role Name"). So a project sets `service.name` to its slug and no `service.namespace`; the
pipelines set the envelope tag `ai.cloud.role` to the slug.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

VERSION: Final = 1

# Where the rules and the workbook read (Log Analytics scope) and what each column holds.
REQUESTS_TABLE: Final = "AppRequests"
METRICS_TABLE: Final = "AppMetrics"
EVENTS_TABLE: Final = "AppEvents"
ROLE_COLUMN: Final = "AppRoleName"
# OpenTelemetry resource attribute whose value becomes the role name, and the envelope tag of the track API.
ROLE_ATTRIBUTE: Final = "service.name"
ROLE_TAG: Final = "ai.cloud.role"

# Attributes on every server span, metric point and event a project sends: which model answered.
MODEL_NAME: Final = "model_name"
MODEL_VERSION: Final = "model_version"

# Outcomes of a drift check: only DRIFT retrains; INSUFFICIENT_DATA notifies and never retrains.
STABLE: Final = "stable"
DRIFT: Final = "drift"
INSUFFICIENT_DATA: Final = "insufficient_data"
DRIFT_OUTCOMES: Final = (STABLE, DRIFT, INSUFFICIENT_DATA)
# The `feature` value of the PSI of the model's prediction (its score distribution), beside its features'.
PREDICTION_FEATURE: Final = "_prediction"

# Inference data on AKS: a project's service writes Azure ML's data collector layout under
# `<slug>/<INFERENCE_DATA_FOLDER>/` of its environment's DVC container (the folder Azure ML's own collector
# writes to in a workspace's blob store), and may write nowhere else there (workload_identities.py).
INFERENCE_DATA_FOLDER: Final = "modelDataCollector"


def inference_data_prefix(slug: str) -> str:
    return f"{slug}/{INFERENCE_DATA_FOLDER}/"


def collector_prefix(endpoint: str) -> str:
    """Where Azure ML's data collector writes an endpoint's inference data in the workspace's blob store:
    `modelDataCollector/<endpoint>/<deployment>/<collection>/yyyy/MM/dd/HH/`
    (how-to-collect-production-data)."""
    return f"{INFERENCE_DATA_FOLDER}/{endpoint}/"


def role_name(slug: str) -> str:
    """The cloud role name (`AppRoleName`) of everything a project sends."""
    return slug


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "counter" (AppMetrics.Sum adds up) or "gauge" (AppMetrics.Max is the value)
    unit: str
    dimensions: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Event:
    name: str
    properties: tuple[str, ...]
    measurements: tuple[str, ...]
    description: str


INFERENCE_RECORDS_WRITTEN: Final = Metric(
    "inference_records_written",
    "counter",
    "records",
    (MODEL_NAME, MODEL_VERSION),
    "scored records the service wrote to inference data (the data collector layout)",
)
INFERENCE_RECORDS_DROPPED: Final = Metric(
    "inference_records_dropped",
    "counter",
    "records",
    (MODEL_NAME, MODEL_VERSION, "reason"),
    "scored records the inference-data writer dropped (queue full, write error, shutdown timeout)",
)
DRIFT_PSI: Final = Metric(
    "drift_psi",
    "gauge",
    "1",
    (MODEL_NAME, MODEL_VERSION, "feature", "threshold"),
    f"PSI of one feature (or of the prediction: feature {PREDICTION_FEATURE}) over the drift window against "
    "the training reference; `threshold` is the project's drift threshold, so the platform's alert compares "
    "each value with the project's own setting",
)
METRICS: Final = (INFERENCE_RECORDS_WRITTEN, INFERENCE_RECORDS_DROPPED, DRIFT_PSI)

DRIFT_CHECKED: Final = Event(
    "drift_checked",
    (MODEL_NAME, MODEL_VERSION, "outcome", "window_days"),
    ("records", "max_psi"),
    f"one per drift run; outcome is one of {', '.join(DRIFT_OUTCOMES)}",
)
MODEL_TRAINED: Final = Event(
    "model_trained",
    (MODEL_NAME, MODEL_VERSION, "data_version", "run_id", "champion"),
    ("<metric name>",),
    "one per registered model: the data version it trained on and its evaluation metrics as measurements "
    "(one per metric, named as the model card names it); `champion` is 'true' when it became champion",
)
PIPELINE_FAILED: Final = Event(
    "pipeline_failed",
    ("pipeline", "run_id", "run_url", "stages", "environment", "source_branch"),
    (),
    "one per environment whose stages failed in a run of a project pipeline, sent by the pipeline's "
    "notification stage for that environment; `stages` lists the stages it watches (comma-separated), "
    "`pipeline` is the pipeline's key (main, retrain, drift)",
)
EVENTS: Final = (DRIFT_CHECKED, MODEL_TRAINED, PIPELINE_FAILED)


def contract() -> dict[str, Any]:
    """The contract as platform.json carries it (`platform_shared.telemetry`), for the template."""

    def metric(item: Metric) -> Mapping[str, Any]:
        return {
            "name": item.name,
            "kind": item.kind,
            "unit": item.unit,
            "dimensions": list(item.dimensions),
            "description": item.description,
        }

    def event(item: Event) -> Mapping[str, Any]:
        return {
            "name": item.name,
            "properties": list(item.properties),
            "measurements": list(item.measurements),
            "description": item.description,
        }

    return {
        "version": VERSION,
        "role": {"attribute": ROLE_ATTRIBUTE, "tag": ROLE_TAG, "value": "the project slug"},
        "request_attributes": [MODEL_NAME, MODEL_VERSION],
        "metrics": {item.name: metric(item) for item in METRICS},
        "events": {item.name: event(item) for item in EVENTS},
        "drift_outcomes": list(DRIFT_OUTCOMES),
        "prediction_feature": PREDICTION_FEATURE,
        "inference_data": {"folder": INFERENCE_DATA_FOLDER},
        "tables": {"requests": REQUESTS_TABLE, "metrics": METRICS_TABLE, "events": EVENTS_TABLE},
    }
