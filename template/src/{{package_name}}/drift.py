"""Population stability index (PSI) per feature, current data against the training reference.

Numeric features are binned on the reference's deciles, categorical ones by category. An empty bin gets a
small floor so that a category absent on one side gives a large, finite PSI rather than infinity.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import FEATURES
from .settings import PSI_THRESHOLD

BINS = 10
FLOOR = 1e-4


@dataclass(frozen=True)
class DriftReport:
    psi: dict[str, float]
    threshold: float

    @property
    def drifted(self) -> list[str]:
        return [name for name, value in self.psi.items() if value > self.threshold]


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    reference = np.clip(reference, FLOOR, None)
    current = np.clip(current, FLOOR, None)
    return float(np.sum((current - reference) * np.log(current / reference)))


def numeric_shares(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, BINS + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    shares = [np.histogram(values, edges)[0] / len(values) for values in (reference, current)]
    return shares[0], shares[1]


def categorical_shares(reference: pd.Series, current: pd.Series, categories) -> tuple[np.ndarray, np.ndarray]:
    shares = [
        values.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
        for values in (reference, current)
    ]
    return shares[0], shares[1]


def report(reference: pd.DataFrame, current: pd.DataFrame, threshold: float = PSI_THRESHOLD) -> DriftReport:
    if current.empty:
        raise ValueError("no current records to compare with the reference")
    values = {}
    for column in FEATURES:
        if column.categories:
            shares = categorical_shares(reference[column.name], current[column.name], list(column.categories))
        else:
            shares = numeric_shares(reference[column.name].astype(float), current[column.name].astype(float))
        values[column.name] = round(psi(*shares), 4)
    return DriftReport(values, threshold)
