"""Prometheus metrics of the scoring service, cheap on the hot path and right with several workers.

prometheus_client takes a lock and walks its buckets in Python for every observation: a few microseconds,
several times a request. So a request only appends its outcome, latency and probabilities to lists, and
every FLUSH_SECONDS, and before every scrape, the lists are counted on the event loop's thread, off the
request's path: a scrape sees every request its worker answered before it. The periodic flush observes
OBSERVATIONS_A_TURN values a turn of the event loop, requests answered in between.

The histograms (latency, one value a request; probabilities, one per record: 100 values for a 100-record
request) are Distributions: bucketed in bulk with `bisect` (a tenth of `observe`'s cost) and exposed as the
same Prometheus histograms through prometheus_client's public custom collector API.

With more than one worker process, each records into files under PROMETHEUS_MULTIPROC_DIR (set by the
server before the workers start; prometheus_client's own files, and a Distribution's totals beside them)
and `/metrics`, whichever worker answers, adds up all of them: the other workers' counts are at most
FLUSH_SECONDS old. A worker moves its last counts on the way out; one killed outright loses at most its
last FLUSH_SECONDS.
"""

import asyncio
import itertools
import json
import os
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

from .schema import SCORE
from .settings import DROP_REASON_ATTRIBUTE, RECORDS_DROPPED_METRIC, RECORDS_WRITTEN_METRIC

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Well under any scrape interval; once a second costs nothing next to thousands of requests a second.
FLUSH_SECONDS = 1.0
# Scoring takes well under a millisecond; the defaults start at 5 ms and would hide every change.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
PROBABILITY_BUCKETS = tuple(i / 10 for i in range(1, 11))
# About a millisecond of observations: what a periodic flush does before requests get the loop again.
OBSERVATIONS_A_TURN = 4_000
# The outcomes of a request, the values of the requests counter's `outcome` label.
SCORED, REFUSED, ERROR = "scored", "refused", "error"


class Distribution:
    """A Prometheus histogram of values observed in bulk: counts by bucket and a sum, as prometheus_client's
    Histogram keeps them (a value falls in the first bucket whose bound it does not exceed), exposed by
    `collect`. In multiprocess mode each worker saves its totals to a file of its own (`save`) and a scrape
    adds up every worker's (`gathered`), as prometheus_client does with its own files."""

    # The files' prefix: prometheus_client's MultiProcessCollector reads *.db files only.
    FILE_PREFIX = "distribution_"

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = tuple(buckets)  # ascending upper bounds; +Inf is the last bucket
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe_all(self, values: Sequence[float]) -> None:
        counts, bounds = self.counts, self.bounds
        for value in values:
            counts[bisect_left(bounds, value)] += 1
        self.sum += sum(values)

    def family(self, counts: Sequence[int], total: float) -> HistogramMetricFamily:
        labels = [*map(floatToGoString, self.bounds), "+Inf"]
        buckets = list(zip(labels, itertools.accumulate(counts), strict=True))
        return HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        yield self.family(self.counts, self.sum)

    def save(self, directory: Path) -> None:
        """This worker's totals, whole or not at all (a scrape may read them meanwhile)."""
        path = directory / f"{self.FILE_PREFIX}{self.name}_{os.getpid()}.json"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({"counts": self.counts, "sum": self.sum}))
        partial.replace(path)

    def gathered(self, directory: Path) -> HistogramMetricFamily:
        """Every worker's saved totals, added up."""
        counts, total = [0] * len(self.counts), 0.0
        for path in directory.glob(f"{self.FILE_PREFIX}{self.name}_*.json"):
            saved = json.loads(path.read_text())
            counts = [mine + theirs for mine, theirs in zip(counts, saved["counts"], strict=True)]
            total += saved["sum"]
        return self.family(counts, total)


class Gathered:
    """A collector of one family made at scrape time (a registry takes collectors, not families)."""

    def __init__(self, make: Callable[[], HistogramMetricFamily]) -> None:
        self.make = make

    def collect(self) -> Iterator[HistogramMetricFamily]:
        yield self.make()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        requests = Counter(
            "scoring_requests", "Scoring requests by outcome", ["outcome"], registry=self.registry
        )
        self.requests = {outcome: requests.labels(outcome) for outcome in (SCORED, REFUSED, ERROR)}
        self.records = Counter("scoring_records", "Records scored", registry=self.registry)
        self.latency = Distribution(
            "scoring_latency_seconds",
            "Time from a request's first byte in the app to its answer",
            LATENCY_BUCKETS,
        )
        self.probability = Distribution(
            f"scoring_{SCORE.name}",
            f"Predicted {SCORE.description}: their shift is an early drift signal",
            PROBABILITY_BUCKETS,
        )
        self.distributions = (self.latency, self.probability)
        for distribution in self.distributions:
            self.registry.register(distribution)
        # Inference data (inference_data.py): counted by its writer thread; prometheus_client's `inc` is
        # thread-safe. Named as the platform's telemetry contract names them.
        self.inference_written = Counter(
            RECORDS_WRITTEN_METRIC, "Scored records written to inference data", registry=self.registry
        )
        self.inference_dropped = Counter(
            RECORDS_DROPPED_METRIC,
            "Scored records the inference data writer dropped",
            [DROP_REASON_ATTRIBUTE],
            registry=self.registry,
        )
        # Read once, when the worker makes its metrics (server.py sets it before the workers start): metrics
        # made before it was set, in the same process, never write into its folder.
        self.directory = os.environ.get(MULTIPROCESS_DIR)
        # Of the requests answered since the last flush: outcomes, latencies and scored probabilities.
        self._outcomes: list[str] = []
        self._seconds: list[float] = []
        self._probabilities: list[float] = []
        # Values taken but not yet observed, in slices of at most OBSERVATIONS_A_TURN, by observer.
        self._backlog: deque[tuple[Callable[[Sequence[float]], None], list[float]]] = deque()
        self._timer: asyncio.Handle | None = None

    def answered(self, outcome: str, seconds: float, probabilities: Sequence[float] = ()) -> None:
        """One request answered: its outcome, its latency and, if scored, its probabilities."""
        self._outcomes.append(outcome)
        self._seconds.append(seconds)
        self._probabilities += probabilities

    def written(self, records: int, model_version: str) -> None:
        self.inference_written.inc(records)

    def dropped(self, records: int, model_version: str, reason: str) -> None:
        self.inference_dropped.labels(reason).inc(records)

    def flush(self, turn: int | None = None) -> bool:
        """Moves the requests answered since the last flush into prometheus_client: the counters at once,
        the histograms' values all, or with `turn`, at most that many. Returns whether values are left."""
        outcomes, self._outcomes = self._outcomes, []
        seconds, self._seconds = self._seconds, []
        probabilities, self._probabilities = self._probabilities, []
        for outcome, counter in self.requests.items():
            if count := outcomes.count(outcome):
                counter.inc(count)
        if probabilities:
            self.records.inc(len(probabilities))
        for distribution, values in ((self.latency, seconds), (self.probability, probabilities)):
            self._backlog.extend(
                (distribution.observe_all, values[first : first + OBSERVATIONS_A_TURN])
                for first in range(0, len(values), OBSERVATIONS_A_TURN)
            )
        observed = 0
        while self._backlog and (turn is None or observed < turn):
            observe, values = self._backlog.popleft()
            observe(values)
            observed += len(values)
        if not self._backlog and self.directory:
            for distribution in self.distributions:
                distribution.save(Path(self.directory))
        return bool(self._backlog)

    def start_flushing(self, seconds: float = FLUSH_SECONDS) -> None:
        """Flushes every `seconds` on the running loop, a turn of observations at a time, until
        `stop_flushing`."""
        loop = asyncio.get_running_loop()

        def flush_and_again() -> None:
            if self.flush(OBSERVATIONS_A_TURN):
                self._timer = loop.call_soon(flush_and_again)
            else:
                self._timer = loop.call_later(seconds, flush_and_again)

        self._timer = loop.call_later(seconds, flush_and_again)

    def stop_flushing(self) -> None:
        """Stops the periodic flush after a last one: no count is left behind."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()

    def exposition(self) -> bytes:
        self.flush()
        if directory := self.directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)
            for distribution in self.distributions:
                registry.register(Gathered(partial(distribution.gathered, Path(directory))))
            return generate_latest(registry)
        return generate_latest(self.registry)
