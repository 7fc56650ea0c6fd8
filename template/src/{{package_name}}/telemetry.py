"""OpenTelemetry of the scoring service, exported to the environment's Application Insights.

Imported only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (serve.py): without it the service neither
imports nor pays for OpenTelemetry. What it sends, named by the platform's telemetry contract (settings.py,
from platform.json) so that the platform's alert rules and workbook find it:

- one server span per scoring request (Application Insights' `AppRequests`: count, DurationMs, ResultCode,
  Success), with the model's name and version as attributes;
- the inference data counters (`AppMetrics`), written and dropped (with the reason);
- under the cloud role name of the project: OpenTelemetry's `service.name` resource attribute, no namespace.

Application Insights has local authentication off on the platform, so the exporters authenticate with an
Entra ID token of the service's own identity (service_identity.py: the pod's workload identity on AKS, the
endpoint identity on Azure ML), which holds Monitoring Metrics Publisher on the resource (the platform's
workload identities; learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication).
Spans and metrics leave in batches on the SDK's own threads; a request only records.

A span costs the event loop tens of microseconds, a fifth of a one-record request, and the exporter's thread
about a millisecond of the worker's one interpreter lock: a fixed share of thousands of requests a second
halves the throughput (template/bench/LOOP-*.md). So requests are sampled to about a fixed number a
second, as the Azure Monitor OpenTelemetry distros' rate-limited sampling does (`traces_per_second`,
default 5; learn.microsoft.com/azure/azure-monitor/app/opentelemetry-sampling): at each kept request the
probability is set to the target rate times the mean interval between the requests since the one kept
before, at most TELEMETRY_SAMPLE_RATE, and how many requests go by before the next one is kept is drawn
then (a geometric draw: the same chance for each request as a draw of its own, without a draw a request);
every failed request (5xx) is kept. The probability depends on earlier requests only, so weighting each
kept span by 1 / probability counts the requests without bias: a kept span carries Application Insights'
sample rate (`_MS.sampleRate`,
in percent, what the exporter's own ApplicationInsightsSampler sets and writes into the envelope's
`sampleRate`), each stored request has an ItemCount of 100 / rate, and the platform's queries, which sum
ItemCount, count every request. The exporter's samplers are not used: they hash the trace id in Python,
as costly as the span itself.
"""

import math
import random
import sys
import time

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from .settings import (
    DROP_REASON_ATTRIBUTE,
    MODEL_NAME,
    MODEL_NAME_ATTRIBUTE,
    MODEL_VERSION_ATTRIBUTE,
    RECORDS_DROPPED_METRIC,
    RECORDS_WRITTEN_METRIC,
    ROLE_ATTRIBUTE,
    ROLE_NAME,
)

# How often metrics leave for Application Insights (the exporter's default is a minute).
EXPORT_INTERVAL_MS = 60_000
# The shortest interval between requests taken as measured: two kept at one instant (or a clock set back)
# would give a chance of 0, and no request would be kept again.
SHORTEST_INTERVAL = 1e-6
# The span attribute the Azure Monitor exporter reads as the item's sample rate, in percent.
SAMPLE_RATE_ATTRIBUTE = "_MS.sampleRate"


def gap(chance: float) -> int:
    """How many requests until the next kept one, each kept with `chance`: geometric, at least 1."""
    if chance >= 1:
        return 1
    if chance <= 0:
        return sys.maxsize  # never
    return int(math.log(1.0 - random.random()) / math.log1p(-chance)) + 1


def resource() -> Resource:
    return Resource.create({ROLE_ATTRIBUTE: ROLE_NAME})


class Telemetry:
    """Spans and counters of one worker process, through the providers it is given."""

    def __init__(
        self,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        model_version: str,
        sample_rate: float = 1.0,
        traces_per_second: float = 0.0,
    ):
        self.sample_rate = sample_rate
        self.traces_per_second = traces_per_second
        # The chance each request has now, the requests still to go until the next kept one (of the `drawn`
        # gap), and when the last one was kept (perf_counter seconds).
        self.chance = sample_rate
        self.skip = self.drawn = gap(sample_rate)
        self.last: float | None = None
        self.kept = {SAMPLE_RATE_ATTRIBUTE: 100.0}
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.tracer = tracer_provider.get_tracer(__name__)
        meter = meter_provider.get_meter(__name__)
        self.model = {MODEL_NAME_ATTRIBUTE: MODEL_NAME, MODEL_VERSION_ATTRIBUTE: model_version or "unknown"}
        self.written_counter = meter.create_counter(
            RECORDS_WRITTEN_METRIC, unit="records", description="scored records written to inference data"
        )
        self.dropped_counter = meter.create_counter(
            RECORDS_DROPPED_METRIC, unit="records", description="scored records the writer dropped"
        )
        # perf_counter is what the service times requests with; spans need the epoch.
        self.epoch_offset = time.time() - time.perf_counter()

    @classmethod
    def in_memory(
        cls,
        span_processor: SpanProcessor,
        metric_reader: MetricReader,
        model_version: str,
        sample_rate: float = 1.0,
        traces_per_second: float = 0.0,
    ) -> "Telemetry":
        tracer_provider = TracerProvider(resource=resource())
        tracer_provider.add_span_processor(span_processor)
        meter_provider = MeterProvider([metric_reader], resource=resource())
        return cls(tracer_provider, meter_provider, model_version, sample_rate, traces_per_second)

    @classmethod
    def to_application_insights(
        cls, connection_string: str, model_version: str, sample_rate: float, traces_per_second: float
    ) -> "Telemetry":
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter

        from .service_identity import credential as service_credential

        credential = service_credential()
        spans = AzureMonitorTraceExporter(connection_string=connection_string, credential=credential)
        exported = AzureMonitorMetricExporter(connection_string=connection_string, credential=credential)
        reader = PeriodicExportingMetricReader(exported, export_interval_millis=EXPORT_INTERVAL_MS)
        telemetry = cls.in_memory(
            BatchSpanProcessor(spans), reader, model_version, sample_rate, traces_per_second
        )
        # The exporters take the cloud role name from the global providers' resource, not from the spans
        # they export ("Failed to derive Resource from Tracer Provider" otherwise): these are the process's.
        trace.set_tracer_provider(telemetry.tracer_provider)
        metrics.set_meter_provider(telemetry.meter_provider)
        return telemetry

    def probability(self, now: float) -> float:
        """The chance of the requests after one kept at `now` (perf_counter seconds). Behind the first one
        kept there is no interval: the share alone."""
        last, self.last = self.last, now
        if not self.traces_per_second or last is None:
            return self.sample_rate
        interval = max((now - last) / self.drawn, SHORTEST_INTERVAL)
        return min(self.sample_rate, self.traces_per_second * interval)

    def answered(self, path: str, status: int, started: float, ended: float) -> None:
        """One scoring request as a server span: what Application Insights counts as a request. Sampled;
        a failed request always kept."""
        if status < 500:
            self.skip -= 1
            if self.skip > 0:
                return
            rate = {SAMPLE_RATE_ATTRIBUTE: 100.0 * self.chance}
            self.chance = self.probability(ended)
            self.skip = self.drawn = gap(self.chance)
        else:
            rate = self.kept
        span = self.tracer.start_span(
            f"POST {path}",
            kind=SpanKind.SERVER,
            start_time=int((started + self.epoch_offset) * 1e9),
            attributes={
                "http.request.method": "POST",
                "http.route": path,
                "url.path": path,
                "http.response.status_code": status,
                **self.model,
                **rate,
            },
        )
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=int((ended + self.epoch_offset) * 1e9))

    def written(self, records: int, model_version: str) -> None:
        self.written_counter.add(records, self.model)

    def dropped(self, records: int, model_version: str, reason: str) -> None:
        self.dropped_counter.add(records, {**self.model, DROP_REASON_ATTRIBUTE: reason})

    def shutdown(self) -> None:
        """Sends what is still batched (graceful shutdown)."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
