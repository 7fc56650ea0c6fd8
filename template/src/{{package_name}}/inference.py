"""How a registered model is called outside the service: the gates, the registry and the generic scorer
load it as MLflow's pyfunc and give it raw records."""

import mlflow
import numpy as np
import pandas as pd

from .schema import FEATURE_NAMES


def load(uri: str) -> mlflow.pyfunc.PyFuncModel:
    return mlflow.pyfunc.load_model(uri)


def predict(model: mlflow.pyfunc.PyFuncModel, records: pd.DataFrame) -> np.ndarray:
    """Probability of default for each record (its feature columns; others are ignored)."""
    return np.asarray(model.predict(records[list(FEATURE_NAMES)]), dtype=np.float64).reshape(-1)
