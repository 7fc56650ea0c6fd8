"""The pandera schemas of the data tables, from the columns of schema.py: training data and feature-only
samples (drift)."""

import pandera.pandas as pa

from .schema import FEATURES, ID, LABEL, SENSITIVE, Column

# Statistical expectations of a training set, beyond per-value rules.
MIN_ROWS = 500
DEFAULT_RATE_RANGE = (0.05, 0.5)
MIN_GROUP_SHARE = 0.2


def checks(column: Column) -> list[pa.Check]:
    found = []
    if column.minimum is not None:
        found.append(pa.Check.ge(column.minimum))
    if column.maximum is not None:
        found.append(pa.Check.le(column.maximum))
    if column.categories:
        found.append(pa.Check.isin(column.categories))
    return found


def _pandera_column(column: Column) -> pa.Column:
    return pa.Column(
        column.dtype, checks=checks(column), nullable=False, coerce=True, description=column.description
    )


def _default_rate_in_range(df) -> bool:
    low, high = DEFAULT_RATE_RANGE
    return bool(low <= df[LABEL.name].mean() <= high)


def _groups_represented(df) -> bool:
    shares = df[SENSITIVE.name].value_counts(normalize=True)
    return len(shares) == len(SENSITIVE.categories) and bool(shares.min() >= MIN_GROUP_SHARE)


TRAINING_SCHEMA = pa.DataFrameSchema(
    {column.name: _pandera_column(column) for column in (ID, *FEATURES, SENSITIVE, LABEL)},
    checks=[
        pa.Check(lambda df: len(df) >= MIN_ROWS, error=f"fewer than {MIN_ROWS} rows"),
        pa.Check(_default_rate_in_range, error=f"default rate outside {DEFAULT_RATE_RANGE}"),
        pa.Check(_groups_represented, error=f"a {SENSITIVE.name} group under {MIN_GROUP_SHARE:.0%} of rows"),
    ],
    unique=[ID.name],
    strict=True,
    ordered=False,
)

# What the drift check sees: features only, any number of rows.
FEATURE_SCHEMA = pa.DataFrameSchema(
    {column.name: _pandera_column(column) for column in FEATURES}, strict="filter", coerce=True
)
