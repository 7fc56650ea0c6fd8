"""Model inputs from applicant records: ratios a credit officer would compute, categories one-hot encoded.

The column set is fixed by the schema, not by the values present, so one record at serving time gets the
same columns as the training set. Built from numpy arrays in one go: this runs on every scoring request.
"""

import numpy as np
import pandas as pd

from .schema import CATEGORICAL, NUMERIC


def build(records: pd.DataFrame) -> pd.DataFrame:
    columns = {column.name: records[column.name].to_numpy(dtype=float) for column in NUMERIC}
    income = np.clip(columns["annual_income"], 1.0, None)
    columns["loan_to_income"] = columns["loan_amount"] / income
    columns["payment_to_income"] = (columns["loan_amount"] / columns["loan_term_months"]) / (income / 12)
    columns["log_income"] = np.log1p(columns["annual_income"])
    for column in CATEGORICAL:
        values = records[column.name].to_numpy()
        for category in column.categories:
            columns[f"{column.name}_{category}"] = (values == category).astype(float)
    return pd.DataFrame(columns, index=records.index)
