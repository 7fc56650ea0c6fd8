"""Quality gates on the held-out split: the metric, scoring latency and bias across the sensitive groups."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from .schema import LABEL, SENSITIVE
from .settings import DECISION_THRESHOLD, LATENCY_P95_MS, MIN_DISPARATE_IMPACT, QUALITY_METRIC, QUALITY_MIN

LATENCY_SAMPLES = 100


@dataclass(frozen=True)
class Gate:
    name: str
    value: float
    threshold: float
    passed: bool
    rule: str

    @property
    def reason(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"{self.name} {verdict}: {self.value:.4f} ({self.rule} {self.threshold})"


def classification_metrics(labels: pd.Series, probabilities: np.ndarray) -> dict[str, float]:
    decisions = probabilities >= DECISION_THRESHOLD
    return {
        "accuracy": float(accuracy_score(labels, decisions)),
        "roc_auc": float(roc_auc_score(labels, probabilities)),
        "f1": float(f1_score(labels, decisions, zero_division=0)),
        "precision": float(precision_score(labels, decisions, zero_division=0)),
        "recall": float(recall_score(labels, decisions, zero_division=0)),
    }


def approval_rates(test: pd.DataFrame, probabilities: np.ndarray) -> dict[str, float]:
    approved = pd.Series(probabilities < DECISION_THRESHOLD, index=test.index)
    return {str(group): float(rate) for group, rate in approved.groupby(test[SENSITIVE.name]).mean().items()}


def disparate_impact(rates: dict[str, float]) -> float:
    highest = max(rates.values())
    return min(rates.values()) / highest if highest else 0.0


def latency_p95_ms(predict: Callable[[pd.DataFrame], Sequence[float]], records: pd.DataFrame) -> float:
    timings = []
    for index in range(min(LATENCY_SAMPLES, len(records))):
        started = time.perf_counter()
        predict(records.iloc[[index]])
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 95))


def quality_gate(metrics: dict[str, float]) -> Gate:
    value = metrics[QUALITY_METRIC]
    return Gate(f"quality ({QUALITY_METRIC})", value, QUALITY_MIN, value >= QUALITY_MIN, ">=")


def latency_gate(p95_ms: float) -> Gate:
    return Gate("latency p95 ms", p95_ms, LATENCY_P95_MS, p95_ms <= LATENCY_P95_MS, "<=")


def bias_gate(ratio: float) -> Gate:
    return Gate(
        f"bias (disparate impact across {SENSITIVE.name})",
        ratio,
        MIN_DISPARATE_IMPACT,
        ratio >= MIN_DISPARATE_IMPACT,
        ">=",
    )


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    approval_rates: dict[str, float]
    gates: list[Gate]

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self.gates)


def evaluate(
    predict: Callable[[pd.DataFrame], Sequence[float]],
    test: pd.DataFrame,
    served: Callable[[pd.DataFrame], Sequence[float]] | None = None,
) -> Evaluation:
    """The gates of a model given as its prediction function of raw records (inference.predict); the
    latency gate times `served`, the path the service will take (scorer.py), where given."""
    probabilities = predict(test)
    metrics = classification_metrics(test[LABEL.name], probabilities)
    rates = approval_rates(test, probabilities)
    gates = [
        quality_gate(metrics),
        latency_gate(latency_p95_ms(served or predict, test)),
        bias_gate(disparate_impact(rates)),
    ]
    return Evaluation(metrics, rates, gates)
