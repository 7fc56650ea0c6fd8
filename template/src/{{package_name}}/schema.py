"""The data contract: one table of columns from which the pandera schema and the scoring request derive
(the request in payload.py)."""

from dataclasses import dataclass

import pandera.pandas as pa


@dataclass(frozen=True)
class Column:
    name: str
    dtype: type
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] | tuple[int, ...] = ()
    description: str = ""

    def checks(self) -> list[pa.Check]:
        checks = []
        if self.minimum is not None:
            checks.append(pa.Check.ge(self.minimum))
        if self.maximum is not None:
            checks.append(pa.Check.le(self.maximum))
        if self.categories:
            checks.append(pa.Check.isin(self.categories))
        return checks


ID = Column("applicant_id", str, description="application reference, not a feature")
LABEL = Column("default", int, categories=(0, 1), description="1 when the applicant defaulted")
# Kept out of the model's inputs; used only to check that decisions do not differ across its groups.
SENSITIVE = Column("gender", str, categories=("female", "male"), description="sensitive attribute")

FEATURES = (
    Column("age", int, 18, 100, description="years"),
    Column("annual_income", float, 0, 10_000_000, description="gross, in the account currency"),
    Column("loan_amount", float, 100, 1_000_000, description="requested principal"),
    Column("loan_term_months", int, categories=(12, 24, 36, 48, 60)),
    Column("credit_history_years", float, 0, 80),
    Column("open_accounts", int, 0, 100),
    Column("late_payments_12m", int, 0, 100, description="late payments in the last 12 months"),
    Column("debt_to_income", float, 0, 5),
    Column(
        "employment_status", str, categories=("employed", "self_employed", "unemployed", "retired", "student")
    ),
    Column("home_ownership", str, categories=("own", "mortgage", "rent")),
    Column(
        "loan_purpose",
        str,
        categories=("car", "home_improvement", "debt_consolidation", "education", "business", "other"),
    ),
)
FEATURE_NAMES = tuple(column.name for column in FEATURES)
CATEGORICAL = tuple(column for column in FEATURES if column.dtype is str)
NUMERIC = tuple(column for column in FEATURES if column.dtype is not str)

# Statistical expectations of a training set, beyond per-value rules.
MIN_ROWS = 500
DEFAULT_RATE_RANGE = (0.05, 0.5)
MIN_GROUP_SHARE = 0.2


def _pandera_column(column: Column) -> pa.Column:
    return pa.Column(
        column.dtype, checks=column.checks(), nullable=False, coerce=True, description=column.description
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
