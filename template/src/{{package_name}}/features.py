"""Model inputs from applicant records: ratios a credit officer would compute, categories one-hot encoded.

The column set is fixed by the schema, not by the values present, so one record at serving time gets the
same columns as the training set. Training and the scoring service share `matrix`: it runs on every
scoring request, so it writes into one preallocated array with a few numpy operations and no pandas.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .schema import CATEGORICAL, NUMERIC

DERIVED = ("loan_to_income", "payment_to_income", "log_income")
NAMES = (
    *(column.name for column in NUMERIC),
    *DERIVED,
    *(f"{column.name}_{category}" for column in CATEGORICAL for category in column.categories),
)
_AT = {name: index for index, name in enumerate(NAMES)}
# Each category's column: one-hot encoding is one indexed write per categorical input.
_ONE_HOT = {
    column.name: {category: _AT[f"{column.name}_{category}"] for category in column.categories}
    for column in CATEGORICAL
}


def matrix(records: Mapping[str, Sequence]) -> np.ndarray:
    """One row per record, columns in NAMES order. `records` maps each input column to its values; a
    category outside the schema is a KeyError, since the data were validated before."""
    rows = len(records[NUMERIC[0].name])
    out = np.zeros((rows, len(NAMES)))
    for index, column in enumerate(NUMERIC):
        out[:, index] = records[column.name]
    income = np.maximum(out[:, _AT["annual_income"]], 1.0)
    loan = out[:, _AT["loan_amount"]]
    out[:, _AT["loan_to_income"]] = loan / income
    out[:, _AT["payment_to_income"]] = (loan / out[:, _AT["loan_term_months"]]) / (income / 12)
    out[:, _AT["log_income"]] = np.log1p(out[:, _AT["annual_income"]])
    every_row = np.arange(rows)
    for name, columns in _ONE_HOT.items():
        out[every_row, [columns[value] for value in records[name]]] = 1.0
    return out


def build(records: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(matrix(records), columns=list(NAMES), index=records.index)
