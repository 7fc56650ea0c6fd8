"""The alert rules of an environment, as data: one set per onboarded project, built from the telemetry
contract (infra/telemetry.py). The alert-rules component turns each into an Azure Monitor scheduled query
rule (log search alert) that sends to the environment's action group.

Why log search alerts and not metric alerts: p95 latency and a share of 5xx responses are a percentile and a
ratio, which metric alert rules cannot aggregate (their time aggregations are Average, Minimum, Maximum,
Total and Count); drift, missing inference data and pipeline failures are custom metrics and events read
together with the requests. Every rule queries the environment's Log Analytics workspace (the `App*`
tables, workspace scope), with a user-assigned identity that holds Reader on that workspace only.

Azure's rules for these (learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule,
MicrosoftDocs/azure-monitor-docs articles/azure-monitor/alerts/alerts-create-log-alert-rule.md):
- the evaluation frequency is 1 minute to 1 day; at 1 minute a query may not use `search`, `union`, `take`
  or `ingestion_time()`;
- a stateful rule (automatically resolved) needs a frequency of at most 12 hours;
- the query time range is at most 2 days;
- the name of a rule that uses an identity has no `;` (infra/naming.py checks every rule name).
`problems()` checks each rule against them; the tests run it over every rule of every stack.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from infra import naming, telemetry

# Severities of Azure Monitor: 0 critical, 1 error, 2 warning, 3 informational, 4 verbose.
ERROR: Final = 1
WARNING: Final = 2
INFORMATIONAL: Final = 3

# Fewer requests than this in a window decide nothing: one slow or failed call out of five is noise.
MIN_REQUESTS: Final = 20
LATENCY_P95_MS: Final = 500
SERVER_ERROR_PERCENT: Final = 5
# Events are one-off facts (a failed run, a drift verdict): each must be told once, none missed. The rule
# runs every EVENT_FREQUENCY over a longer window and keeps only what was ingested since its last run, so an
# event that arrives late (ingestion latency is minutes) is still seen, and seen once.
EVENT_FREQUENCY: Final = datetime.timedelta(minutes=15)
EVENT_WINDOW: Final = datetime.timedelta(hours=1)

MAX_WINDOW: Final = datetime.timedelta(days=2)
MAX_STATEFUL_FREQUENCY: Final = datetime.timedelta(hours=12)
_ONE_MINUTE_UNSUPPORTED: Final = re.compile(r"\b(search|union|take|ingestion_time)\b")


@dataclass(frozen=True)
class AlertRule:
    key: str  # unique per project: the rule's name is <slug>-<key>
    slug: str
    description: str
    severity: int
    frequency: datetime.timedelta
    window: datetime.timedelta
    # Stateful: resolved when the condition clears. Stateless rules fire once per evaluation that finds rows.
    auto_mitigate: bool
    query: str
    # The condition: `time_aggregation` of `measure` (or of the rows when None) compared with `threshold`.
    time_aggregation: str
    operator: str
    threshold: float
    measure: str | None = None
    # Columns each alert is split by: each value combination is its own alert, named in its notification.
    dimensions: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return naming.alert_rule(self.slug, self.key)


def iso_duration(delta: datetime.timedelta) -> str:
    """ISO 8601 duration as the API takes it (PT5M, PT1H, P1D)."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"P{minutes // (24 * 60)}D"
    if minutes % 60 == 0:
        return f"PT{minutes // 60}H"
    return f"PT{minutes}M"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ingested_since_last_run() -> str:
    return f"| where ingestion_time() > ago({int(EVENT_FREQUENCY.total_seconds() // 60)}m)"


def project_rules(slug: str) -> list[AlertRule]:
    """The rules of one onboarded project, on what its service and pipelines send (its role name)."""
    role = f"{telemetry.ROLE_COLUMN} == {_quote(telemetry.role_name(slug))}"
    requests = f"{telemetry.REQUESTS_TABLE}\n| where {role}"
    five = datetime.timedelta(minutes=5)
    quarter = datetime.timedelta(minutes=15)
    hour = datetime.timedelta(hours=1)
    return [
        AlertRule(
            key="latency-p95",
            slug=slug,
            description=(
                f"p95 latency of {slug} above {LATENCY_P95_MS} ms over 15 minutes (at least {MIN_REQUESTS} "
                "requests); resolves itself when latency is back"
            ),
            severity=WARNING,
            frequency=five,
            window=quarter,
            auto_mitigate=True,
            query=(
                f"{requests}\n| summarize Requests = sum(ItemCount), P95 = percentile(DurationMs, 95)\n"
                f"| where Requests >= {MIN_REQUESTS}\n| project P95"
            ),
            time_aggregation="Maximum",
            operator="GreaterThan",
            threshold=LATENCY_P95_MS,
            measure="P95",
        ),
        AlertRule(
            key="server-errors",
            slug=slug,
            description=(
                f"more than {SERVER_ERROR_PERCENT} % of {slug}'s responses are 5xx over 15 minutes; resolves "
                "itself when they stop"
            ),
            severity=ERROR,
            frequency=five,
            window=quarter,
            auto_mitigate=True,
            query=(
                f"{requests}\n| summarize Requests = sum(ItemCount), "
                "ServerErrors = sumif(ItemCount, toint(ResultCode) >= 500)\n"
                f"| where Requests >= {MIN_REQUESTS}\n"
                "| extend ServerErrorPercent = 100.0 * ServerErrors / Requests\n| project ServerErrorPercent"
            ),
            time_aggregation="Maximum",
            operator="GreaterThan",
            threshold=SERVER_ERROR_PERCENT,
            measure="ServerErrorPercent",
        ),
        AlertRule(
            key="inference-data-missing",
            slug=slug,
            description=(
                f"{slug} answered at least {MIN_REQUESTS} requests in an hour and wrote no inference record: "
                "the next retraining and drift check would miss this traffic"
            ),
            severity=WARNING,
            frequency=quarter,
            window=hour,
            auto_mitigate=True,
            query=(
                f"let requests = toscalar({telemetry.REQUESTS_TABLE} | where {role}\n"
                "    | summarize sum(ItemCount));\n"
                f"let written = toscalar({telemetry.METRICS_TABLE} | where {role} and Name == "
                f"{_quote(telemetry.INFERENCE_RECORDS_WRITTEN.name)} | summarize sum(Sum));\n"
                "print Requests = requests, Written = coalesce(written, 0.0)\n"
                f"| where Requests >= {MIN_REQUESTS} and Written == 0"
            ),
            time_aggregation="Count",
            operator="GreaterThan",
            threshold=0,
        ),
        AlertRule(
            key="drift",
            slug=slug,
            description=(
                f"the drift check of {slug} measured a PSI above the project's threshold; the drift pipeline "
                "queues retraining"
            ),
            severity=INFORMATIONAL,
            frequency=EVENT_FREQUENCY,
            window=EVENT_WINDOW,
            auto_mitigate=False,
            query=(
                f"{telemetry.METRICS_TABLE}\n{_ingested_since_last_run()}\n"
                f"| where {role} and Name == {_quote(telemetry.DRIFT_PSI.name)}\n"
                "| extend Feature = tostring(Properties.feature),\n"
                "    Threshold = todouble(Properties.threshold)\n"
                "| where Max > Threshold\n"
                "| summarize DriftedFeatures = dcount(Feature), MaxPsi = max(Max)"
            ),
            time_aggregation="Maximum",
            operator="GreaterThan",
            threshold=0,
            measure="DriftedFeatures",
        ),
        AlertRule(
            key="drift-no-data",
            slug=slug,
            description=(
                f"the drift check of {slug} found too little inference data in its window: nothing was "
                "retrained; the inference-data path needs a look"
            ),
            severity=WARNING,
            frequency=EVENT_FREQUENCY,
            window=EVENT_WINDOW,
            auto_mitigate=False,
            query=(
                f"{telemetry.EVENTS_TABLE}\n{_ingested_since_last_run()}\n"
                f"| where {role} and Name == {_quote(telemetry.DRIFT_CHECKED.name)}\n"
                f"| where tostring(Properties.outcome) == {_quote(telemetry.INSUFFICIENT_DATA)}"
            ),
            time_aggregation="Count",
            operator="GreaterThan",
            threshold=0,
        ),
        AlertRule(
            key="pipeline-failed",
            slug=slug,
            description=f"a pipeline run of {slug} failed; the alert names its pipeline, stages and run",
            severity=WARNING,
            frequency=EVENT_FREQUENCY,
            window=EVENT_WINDOW,
            auto_mitigate=False,
            query=(
                f"{telemetry.EVENTS_TABLE}\n{_ingested_since_last_run()}\n"
                f"| where {role} and Name == {_quote(telemetry.PIPELINE_FAILED.name)}\n"
                "| project TimeGenerated, Pipeline = tostring(Properties.pipeline), "
                "Stages = tostring(Properties.stages), RunUrl = tostring(Properties.run_url)"
            ),
            time_aggregation="Count",
            operator="GreaterThan",
            threshold=0,
            dimensions=("Pipeline", "Stages", "RunUrl"),
        ),
    ]


def environment_rules(slugs: Sequence[str]) -> list[AlertRule]:
    return [rule for slug in slugs for rule in project_rules(slug)]


def problems(rule: AlertRule) -> Iterator[str]:
    """What Azure would refuse, or run other than intended, in this rule (see the module's docstring)."""
    if not datetime.timedelta(minutes=1) <= rule.frequency <= datetime.timedelta(days=1):
        yield f"{rule.name}: frequency {iso_duration(rule.frequency)} is outside 1 minute to 1 day"
    if rule.window > MAX_WINDOW:
        yield f"{rule.name}: window {iso_duration(rule.window)} is longer than 2 days"
    if rule.window < rule.frequency:
        yield f"{rule.name}: window {iso_duration(rule.window)} is shorter than its frequency: data is missed"
    if rule.auto_mitigate and rule.frequency > MAX_STATEFUL_FREQUENCY:
        yield f"{rule.name}: a stateful rule cannot run less often than every 12 hours"
    if rule.frequency <= datetime.timedelta(minutes=1) and _ONE_MINUTE_UNSUPPORTED.search(rule.query):
        yield f"{rule.name}: a 1-minute rule cannot use search, union, take or ingestion_time()"
    if "ingestion_time()" in rule.query and rule.auto_mitigate:
        yield f"{rule.name}: a rule on what was ingested since its last run must be stateless"
    if rule.measure is not None and not re.search(rf"\b{re.escape(rule.measure)}\b", rule.query):
        yield f"{rule.name}: the query has no column {rule.measure}"
    if not 0 <= rule.severity <= 4:
        yield f"{rule.name}: severity {rule.severity} is not 0-4"
