"""Population stability index (PSI) per feature, current data against the training reference.

Numeric features are binned on the reference's deciles, categorical ones by category. An empty bin gets a
small floor so that a category absent on one side gives a large, finite PSI rather than infinity.
"""

from collections.abc import Sequence
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


def numeric_edges(reference: pd.Series) -> np.ndarray:
    """The reference's deciles (fewer where values repeat), open at both ends."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, BINS + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    return edges


def numeric_shares(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    edges = numeric_edges(reference)
    shares = [np.histogram(values, edges)[0] / len(values) for values in (reference, current)]
    return shares[0], shares[1]


def categorical_shares(reference: pd.Series, current: pd.Series, categories) -> tuple[np.ndarray, np.ndarray]:
    shares = [
        values.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
        for values in (reference, current)
    ]
    return shares[0], shares[1]


def feature_shares(
    reference: pd.DataFrame, current: pd.DataFrame, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Bin shares of one column on both sides: by category, or on the reference's deciles."""
    column = next((column for column in FEATURES if column.name == name), None)
    if column is not None and column.categories:
        return categorical_shares(reference[name], current[name], list(column.categories))
    return numeric_shares(reference[name].astype(float), current[name].astype(float))


def report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    threshold: float = PSI_THRESHOLD,
    extra: Sequence[str] = (),
) -> DriftReport:
    """PSI of every feature and of the `extra` numeric columns (the prediction) both sides have."""
    if current.empty:
        raise ValueError("no current records to compare with the reference")
    names = [column.name for column in FEATURES] + list(extra)
    values = {name: round(psi(*feature_shares(reference, current, name)), 4) for name in names}
    return DriftReport(values, threshold)
