"""Model inputs from applicant records: ratios a credit officer would compute, categories one-hot encoded.

Plug in your own features here: a derived input is a function of the record's numeric values below,
listed in DERIVED; its name is the function's name, so a name cannot drift from the code that computes it
(tests/test_features.py guards both). The column set is fixed by the schema, not by the values present,
so one record at serving time gets the same columns as the training set.

The registered model runs this module (it travels with the model, see model.py), and so does the
scoring service's compiled path. It works record by record in plain Python floats: the service scores
one record or a few at a time, where each numpy operation would cost more than the arithmetic, and a
training set of tens of thousands of records still takes a fraction of a second. numpy and pandas are
imported only by the functions that build a whole table, so the service starts without them.
"""

import math
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

from .schema import CATEGORICAL, FEATURE_NAMES, NUMERIC

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def _floored(income: float) -> float:
    # Incomes under one unit count as one: a ratio to a zero income would be infinite.
    return 1.0 if income < 1.0 else income


def loan_to_income(income: float, loan: float, term: float) -> float:
    return loan / _floored(income)


def payment_to_income(income: float, loan: float, term: float) -> float:
    """The monthly instalment (without interest) as a share of the monthly income."""
    return (loan / term) / (_floored(income) / 12)


def log_income(income: float, loan: float, term: float) -> float:
    return math.log1p(income)


# Each takes (annual_income, loan_amount, loan_term_months) of a record.
DERIVED = (loan_to_income, payment_to_income, log_income)
DERIVED_NAMES = tuple(function.__name__ for function in DERIVED)
NAMES = (
    *(column.name for column in NUMERIC),
    *DERIVED_NAMES,
    *(f"{column.name}_{category}" for column in CATEGORICAL for category in column.categories),
)
# Where each input sits in a record (FEATURE_NAMES order). The derived inputs need three numeric columns,
# so the getter always returns a tuple.
_NUMERIC = itemgetter(*(FEATURE_NAMES.index(column.name) for column in NUMERIC))
_ARGUMENTS = itemgetter(
    *(FEATURE_NAMES.index(name) for name in ("annual_income", "loan_amount", "loan_term_months"))
)
# Each categorical column's position and its one-hot values by category, in NAMES order.
_ONE_HOT = tuple(
    (
        FEATURE_NAMES.index(column.name),
        {
            category: tuple(float(category == other) for other in column.categories)
            for category in column.categories
        },
    )
    for column in CATEGORICAL
)


def row(record: Sequence) -> list[float]:
    """The model inputs of one record, given as its values in FEATURE_NAMES order (values after those are
    ignored). A category outside the schema is a KeyError: the data were validated before."""
    values = list(_NUMERIC(record))
    arguments = _ARGUMENTS(record)
    for derive in DERIVED:
        values.append(derive(*arguments))
    for position, encoding in _ONE_HOT:
        values += encoding[record[position]]
    return values


def matrix(records: Iterable[Sequence]) -> "np.ndarray":
    """One row per record, columns in NAMES order."""
    import numpy as np

    return np.array([row(record) for record in records], dtype=np.float64).reshape(-1, len(NAMES))


def build(records: "pd.DataFrame") -> "pd.DataFrame":
    import pandas as pd

    # Plain Python values: arithmetic on numpy scalars, one at a time, is several times slower.
    values = zip(*(records[name].tolist() for name in FEATURE_NAMES), strict=True)
    return pd.DataFrame(matrix(values), columns=list(NAMES), index=records.index)
