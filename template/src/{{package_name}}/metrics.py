"""Prometheus metrics of the scoring service, cheap on the hot path and right with several workers.

prometheus_client takes a lock and walks its buckets in Python for every observation: a few microseconds,
several times a request. So a request only appends its outcome, latency and probabilities to lists, and
every FLUSH_SECONDS, and before every scrape, the lists go into prometheus_client through its public API
(`inc`, `observe`) on the event loop's thread, off the request's path: a scrape sees every request its
worker answered before it. The periodic flush observes OBSERVATIONS_A_TURN values a turn of the event loop,
requests answered in between: a second of 100-record requests is tens of thousands of probabilities, tens
of milliseconds in one go, and every request waiting meanwhile would pay them in its latency.

With more than one worker process, each records into files under PROMETHEUS_MULTIPROC_DIR (set by the
server before the workers start) and `/metrics`, whichever worker answers, adds up all of them: the other
workers' counts are at most FLUSH_SECONDS old. A worker moves its last counts on the way out; one killed
outright loses at most its last FLUSH_SECONDS.
"""

import asyncio
import os
from collections import deque
from collections.abc import Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

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
OBSERVATIONS_A_TURN = 500
# The outcomes of a request, the values of the requests counter's `outcome` label.
SCORED, REFUSED, ERROR = "scored", "refused", "error"


def observe_all(histogram: Histogram, values: Sequence[float]) -> None:
    for value in values:
        histogram.observe(value)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        requests = Counter(
            "scoring_requests", "Scoring requests by outcome", ["outcome"], registry=self.registry
        )
        self.requests = {outcome: requests.labels(outcome) for outcome in (SCORED, REFUSED, ERROR)}
        self.records = Counter("scoring_records", "Records scored", registry=self.registry)
        self.latency = Histogram(
            "scoring_latency_seconds",
            "Time from a request's first byte in the app to its answer",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.probability = Histogram(
            f"scoring_{SCORE.name}",
            f"Predicted {SCORE.description}: their shift is an early drift signal",
            buckets=PROBABILITY_BUCKETS,
            registry=self.registry,
        )
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
        # Of the requests answered since the last flush: outcomes, latencies and scored probabilities.
        self._outcomes: list[str] = []
        self._seconds: list[float] = []
        self._probabilities: list[float] = []
        # Values taken but not yet observed, in slices of at most OBSERVATIONS_A_TURN, by histogram.
        self._backlog: deque[tuple[Histogram, list[float]]] = deque()
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
        for histogram, values in ((self.latency, seconds), (self.probability, probabilities)):
            self._backlog.extend(
                (histogram, values[first : first + OBSERVATIONS_A_TURN])
                for first in range(0, len(values), OBSERVATIONS_A_TURN)
            )
        observed = 0
        while self._backlog and (turn is None or observed < turn):
            histogram, values = self._backlog.popleft()
            observe_all(histogram, values)
            observed += len(values)
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
        if directory := os.environ.get(MULTIPROCESS_DIR):
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)
            return generate_latest(registry)
        return generate_latest(self.registry)
