"""What a drift check tells Application Insights: the PSI of every column as the contract's gauge, and one
`drift_checked` event with the outcome, named as the platform's alert rules and workbook query them.

OpenTelemetry with the Azure Monitor exporters and an Entra ID credential (local auth is off): in the drift
pipeline the Azure CLI's login (AzureCLI@2), elsewhere whatever DefaultAzureCredential finds. A custom event
is an OpenTelemetry log record carrying `microsoft.custom_event.name`, its measurements in
`microsoft.custom_measurements` (learn.microsoft.com/azure/azure-monitor/app/opentelemetry-add-modify, "Send
custom events"). The logs SDK is still `opentelemetry.sdk._logs` upstream: this module is the only user, and
tests/test_drift_live.py guards it with the in-memory exporters.
"""

import json
import logging
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import LogExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader

from .settings import (
    DRIFT_CHECKED_EVENT,
    DRIFT_CHECKED_MEASUREMENTS,
    DRIFT_CHECKED_PROPERTIES,
    DRIFT_PSI_DIMENSIONS,
    DRIFT_PSI_METRIC,
    MODEL_NAME,
)
from .telemetry import resource

EVENT_NAME_ATTRIBUTE = "microsoft.custom_event.name"
MEASUREMENTS_ATTRIBUTE = "microsoft.custom_measurements"


def send(
    content: Mapping[str, Any], model_version: str, reader: MetricReader, log_exporter: LogExporter
) -> None:
    """Records the check's PSI values and its event through the given reader and exporter, then flushes."""
    meters = MeterProvider([reader], resource=resource())
    logs = LoggerProvider(resource=resource())
    logs.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    try:
        gauge = meters.get_meter(__name__).create_gauge(DRIFT_PSI_METRIC, unit="1")
        for feature, value in content["psi"].items():
            values = (MODEL_NAME, model_version, feature, str(content["threshold"]))
            gauge.set(value, dict(zip(DRIFT_PSI_DIMENSIONS, values, strict=True)))
        properties = (MODEL_NAME, model_version, content["outcome"], str(content["window_days"]))
        measurements = dict(
            zip(
                DRIFT_CHECKED_MEASUREMENTS,
                (content["records"], max(content["psi"].values(), default=0.0)),
                strict=True,
            )
        )
        logger = logging.getLogger(f"{__name__}.events")
        logger.propagate = False
        handler = LoggingHandler(logger_provider=logs)
        logger.addHandler(handler)
        try:
            logger.warning(
                DRIFT_CHECKED_EVENT,
                extra={
                    **dict(zip(DRIFT_CHECKED_PROPERTIES, properties, strict=True)),
                    EVENT_NAME_ATTRIBUTE: DRIFT_CHECKED_EVENT,
                    MEASUREMENTS_ATTRIBUTE: json.dumps(measurements),
                },
            )
        finally:
            logger.removeHandler(handler)
        meters.force_flush()
    finally:
        meters.shutdown()
        logs.shutdown()


def to_application_insights(content: Mapping[str, Any], model_version: str, connection_string: str) -> None:
    from azure.identity import DefaultAzureCredential
    from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter, AzureMonitorMetricExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    credential = DefaultAzureCredential()
    metrics = AzureMonitorMetricExporter(connection_string=connection_string, credential=credential)
    logs = AzureMonitorLogExporter(connection_string=connection_string, credential=credential)
    send(content, model_version, PeriodicExportingMetricReader(metrics), logs)
