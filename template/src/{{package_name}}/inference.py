"""How a model is called when it scores: the one path that the service, the gates and the registry share."""

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb

from . import features


def for_scoring(model: xgb.XGBClassifier) -> xgb.XGBClassifier:
    # One thread: on a few rows XGBoost's threads only contend for the cores; the service scales out with
    # replicas instead.
    model.set_params(n_jobs=1)
    return model


def load(uri: str) -> xgb.XGBClassifier:
    return for_scoring(mlflow.xgboost.load_model(uri))


def predict(model: xgb.XGBClassifier, records: pd.DataFrame) -> np.ndarray:
    """Probability of default for each record."""
    return model.predict_proba(features.build(records))[:, 1]
