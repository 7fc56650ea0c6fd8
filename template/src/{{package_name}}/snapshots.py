"""Labelled snapshots: where newly labelled data lands, and which data set a training run takes.

The contract (README "Labelled data"): a snapshot is one CSV with the training schema (schema.py, label
included) holding the labelled records the model should learn from as of its time, named by that time in UTC,
`data/labelled/<YYYYmmddTHHMMSSZ>.csv`. With DVC the file is tracked by its `.dvc` pointer (the data in the
project's DVC remote); without, the CSV itself is committed. A snapshot is never edited: new labels make a
new snapshot. Training takes the newest snapshot by its name, or the pinned data set when there is none.
Pure standard library: the Makefile's and the pipeline's choice must be this one.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

NAME = re.compile(r"^\d{8}T\d{6}Z\.csv$")
POINTER_SUFFIX = ".dvc"
PINNED = "pinned"


@dataclass(frozen=True)
class TrainingData:
    path: Path
    # The snapshot's name without `.csv`, or PINNED for the pinned data set.
    snapshot: str


def snapshot_of(path: Path) -> str:
    """What a training run records as its data snapshot: the snapshot's name, or PINNED."""
    return path.name.removesuffix(".csv") if NAME.match(path.name) else PINNED


def training_data(folder: Path, pinned: Path) -> TrainingData:
    """The newest snapshot in `folder` (by name), or the pinned data set. A file that breaks the naming
    rule, or a newest snapshot whose pointer is there but whose data was not pulled, is an error: training
    on an older snapshot than the newest would go unnoticed."""
    if not folder.is_dir():
        return TrainingData(pinned, PINNED)
    names: set[str] = set()
    misnamed = []
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue
        name = path.name.removesuffix(POINTER_SUFFIX)
        if NAME.match(name):
            names.add(name)
        elif path.name != "README.md":
            misnamed.append(path.name)
    if misnamed:
        raise DataError(
            f"{folder}: {', '.join(sorted(misnamed))}: a labelled snapshot is named <YYYYmmddTHHMMSSZ>.csv "
            "(its time in UTC), with its .dvc pointer under DVC"
        )
    if not names:
        return TrainingData(pinned, PINNED)
    newest = folder / max(names)
    if not newest.exists():
        raise DataError(f"{newest} is not pulled (only its DVC pointer is here): run `make data`")
    return TrainingData(newest, snapshot_of(newest))
