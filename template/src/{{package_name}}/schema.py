"""The data contract: one table of columns from which the pandera schemas (tables.py), the scoring
request (payload.py), the model's signature (model.py) and the service's protocols derive.

Plain Python only: the scoring service imports it and starts without pandas or pandera.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    dtype: type
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] | tuple[int, ...] = ()
    description: str = ""


ID = Column("applicant_id", str, description="application reference, not a feature")
LABEL = Column("default", int, categories=(0, 1), description="1 when the applicant defaulted")
# What the model answers for a record: the probability of the label's positive class.
SCORE = Column(f"{LABEL.name}_probability", float, 0, 1, description=f"probability that {LABEL.name} is 1")
# What a decision is called below the decision threshold and at or above it (settings.DECISION_THRESHOLD).
DECISIONS = ("approve", "decline")
DECISION = Column("decision", str, categories=DECISIONS, description="the decision the score implies")
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
