"""Prometheus metrics of the scoring service, cheap on the hot path and right with several workers.

prometheus_client takes a lock and walks its buckets in Python for every observation: a few microseconds,
several times a request, more than the service's own work on a record. So the hot path counts in plain
Python (an addition, a bisect for a histogram) and the counts move into prometheus_client once per turn
of the event loop, all in the loop's thread: a scrape, itself a later turn, sees every request before it.

With more than one worker process, each records into files under PROMETHEUS_MULTIPROC_DIR (set by the
server before the workers start) and `/metrics`, whichever worker answers, adds up all of them.
"""

import asyncio
import os
from bisect import bisect_left
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Scoring takes well under a millisecond; the defaults start at 5 ms and would hide every change.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
PROBABILITY_BUCKETS = tuple(i / 10 for i in range(1, 11))


class Pending:
    """The tallies with counts not yet in prometheus_client, and the one move of them that is due."""

    def __init__(self) -> None:
        self.tallies: list[CountTally | HistogramTally] = []
        self.due = False

    def touched(self) -> None:
        if self.due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside the service (a script, a test): nothing to wait for
            self.flush()
            return
        self.due = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        self.due = False
        for tally in self.tallies:
            tally.flush()


class CountTally:
    """A Counter's increments, held until the turn of the loop ends."""

    def __init__(self, counter: Counter, pending: Pending) -> None:
        self.counter = counter
        self.pending = pending
        self.count = 0
        pending.tallies.append(self)

    def inc(self, amount: int = 1) -> None:
        self.count += amount
        self.pending.touched()

    def flush(self) -> None:
        if self.count:
            count, self.count = self.count, 0
            self.counter.inc(count)


class HistogramTally:
    """A Histogram's observations as counts per bucket (le: upper bound included), held until the turn of
    the loop ends."""

    def __init__(self, histogram: Histogram, pending: Pending) -> None:
        self.histogram = histogram
        self.pending = pending
        self.bounds = list(histogram._upper_bounds)  # ends with +Inf: every value has a bucket
        self.counts = [0] * len(self.bounds)
        self.sum = 0.0
        pending.tallies.append(self)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.pending.touched()

    def observe_many(self, values: Iterable[float]) -> None:
        bounds, counts = self.bounds, self.counts
        for value in values:
            counts[bisect_left(bounds, value)] += 1
            self.sum += value
        self.pending.touched()

    def flush(self) -> None:
        if not any(self.counts):
            return
        counts, self.counts = self.counts, [0] * len(self.bounds)
        total, self.sum = self.sum, 0.0
        self.histogram._sum.inc(total)
        for bucket, count in zip(self.histogram._buckets, counts, strict=True):
            if count:
                bucket.inc(count)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.pending = Pending()
        requests = Counter(
            "scoring_requests", "Scoring requests by outcome", ["outcome"], registry=self.registry
        )
        self.scored = CountTally(requests.labels("scored"), self.pending)
        self.refused = CountTally(requests.labels("refused"), self.pending)
        self.failed = CountTally(requests.labels("error"), self.pending)
        self.records = CountTally(
            Counter("scoring_records", "Records scored", registry=self.registry), self.pending
        )
        self.latency = HistogramTally(
            Histogram(
                "scoring_latency_seconds",
                "Time from a request's first byte in the app to its answer",
                buckets=LATENCY_BUCKETS,
                registry=self.registry,
            ),
            self.pending,
        )
        self.probability = HistogramTally(
            Histogram(
                "scoring_default_probability",
                "Predicted default probabilities: their shift is an early drift signal",
                buckets=PROBABILITY_BUCKETS,
                registry=self.registry,
            ),
            self.pending,
        )

    def answered(self, probabilities: list[float]) -> None:
        """A scored request: one more, its records, and their probabilities."""
        self.scored.count += 1
        self.records.count += len(probabilities)
        self.probability.observe_many(probabilities)  # and the move that is due

    def exposition(self) -> bytes:
        self.pending.flush()
        if directory := os.environ.get(MULTIPROCESS_DIR):
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)
            return generate_latest(registry)
        return generate_latest(self.registry)
