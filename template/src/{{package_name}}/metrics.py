"""Prometheus metrics of the scoring service, cheap on the hot path and right with several workers.

With more than one worker process, each records into files under PROMETHEUS_MULTIPROC_DIR (set by the
server before the workers start) and `/metrics`, whichever worker answers, adds up all of them.
"""

import os

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Scoring takes well under a millisecond; the defaults start at 5 ms and would hide every change.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class BatchHistogram(Histogram):
    """A histogram that takes a whole array at once: one increment per bucket rather than per value, for
    the probabilities of every record of a model call. Buckets as `observe` fills them (le: upper bound
    included)."""

    def observe_many(self, values: np.ndarray) -> None:
        self._raise_if_not_observable()
        self._sum.inc(float(values.sum(dtype=np.float64)))
        counts = np.bincount(np.searchsorted(self._upper_bounds, values), minlength=len(self._upper_bounds))
        for bucket, count in zip(self._buckets, counts.tolist(), strict=True):
            if count:
                bucket.inc(count)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        requests = Counter(
            "scoring_requests", "Scoring requests by outcome", ["outcome"], registry=self.registry
        )
        # Bound once: looking a label up costs more than the increment.
        self.scored = requests.labels("scored")
        self.refused = requests.labels("refused")
        self.failed = requests.labels("error")
        self.records = Counter("scoring_records", "Records scored", registry=self.registry)
        self.latency = Histogram(
            "scoring_latency_seconds",
            "Time from a request's first byte in the app to its answer",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.probability = BatchHistogram(
            "scoring_default_probability",
            "Predicted default probabilities: their shift is an early drift signal",
            buckets=[i / 10 for i in range(1, 11)],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        if directory := os.environ.get(MULTIPROCESS_DIR):
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)
            return generate_latest(registry)
        return generate_latest(self.registry)
