"""The compiled path derived from a trained model, at training: TL2cgen writes the trees as C code (through
treelite, which reads XGBoost, LightGBM and scikit-learn ensembles), the registered model's own pyfunc
scores probe records for the check, and where a C compiler and Python's headers are present the library
is built and verified here too (compiled.build). The image build compiles and verifies again, for its own
platform.

A model that treelite cannot read, or whose compiled trees answer otherwise, gets no compiled artifact:
the service then serves the pyfunc (scorer.py), and says so when it starts.
"""

import logging
import random
import shutil
from pathlib import Path

import pandas as pd
import xgboost as xgb

from . import compiled, inference
from .schema import FEATURE_NAMES, FEATURES

log = logging.getLogger(__name__)

PROBE_RECORDS = 500
PROBE_SEED = 0


def probe_records(count: int = PROBE_RECORDS, seed: int = PROBE_SEED) -> list[list]:
    """Records spread over the whole range the request schema accepts, values in FEATURE_NAMES order."""
    generator = random.Random(seed)
    records = []
    for _ in range(count):
        record = []
        for column in FEATURES:
            if column.categories:
                record.append(generator.choice(column.categories))
            elif column.dtype is int:
                record.append(generator.randint(int(column.minimum), int(column.maximum)))
            else:
                record.append(generator.uniform(column.minimum, column.maximum))
        records.append(record)
    return records


def derive(booster: xgb.Booster, saved_model: Path, target: Path) -> Path | None:
    """The compiled artifact in `target` (named compiled.ARTIFACT), checked against `saved_model`, the
    pyfunc as it is registered; None where the model does not qualify."""
    import tl2cgen
    import treelite

    try:
        trees = treelite.frontend.from_xgboost(booster)
    except treelite.TreeliteError as error:
        log.warning("no compiled path: treelite cannot read the model (%s); the pyfunc serves it", error)
        return None
    target.mkdir(parents=True)
    tl2cgen.generate_c_code(trees, dirpath=target, params={})
    records = probe_records()
    expected = inference.predict(
        inference.load(str(saved_model)), pd.DataFrame(records, columns=FEATURE_NAMES)
    )
    compiled.Probe(records, expected.tolist()).write(target)
    try:
        compiled.build(target)
    except compiled.NoToolchain as missing:
        log.info("%s; the compiled path is built and verified at the image build", missing)
    except compiled.ModelMismatch as mismatch:
        log.warning("no compiled path: %s; the pyfunc serves the model", mismatch)
        shutil.rmtree(target)
        return None
    return target
