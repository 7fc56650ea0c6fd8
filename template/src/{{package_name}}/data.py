"""Loading, validating, versioning and splitting the training data."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.errors
from sklearn.model_selection import train_test_split

from .errors import DataError
from .schema import LABEL, SENSITIVE
from .settings import SEED, TEST_SIZE
from .tables import TRAINING_SCHEMA


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    test: pd.DataFrame


def data_version(path: Path) -> str:
    """MD5 of the file: the same digest DVC records, so a run names the data it saw either way."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def validate(df: pd.DataFrame) -> pd.DataFrame:
    try:
        return TRAINING_SCHEMA.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases[["column", "check", "failure_case"]].drop_duplicates(["column", "check"])
        lines = [
            f"{row.column or 'table'}: {row.check} (e.g. {row.failure_case!r})" for row in cases.itertuples()
        ]
        raise DataError("data fails its schema:\n  " + "\n  ".join(lines)) from None


def load(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"no data at {path}: run `make data`")
    return validate(pd.read_csv(path))


def profile(df: pd.DataFrame) -> dict[str, float | int]:
    return {
        "rows": len(df),
        "default_rate": round(float(df[LABEL.name].mean()), 4),
        "nulls": int(df.isna().sum().sum()),
        **{
            f"share_{group}": round(float(share), 4)
            for group, share in df[SENSITIVE.name].value_counts(normalize=True).sort_index().items()
        },
    }


def split(df: pd.DataFrame) -> Split:
    train, test = train_test_split(df, test_size=TEST_SIZE, random_state=SEED, stratify=df[LABEL.name])
    return Split(train.reset_index(drop=True), test.reset_index(drop=True))
