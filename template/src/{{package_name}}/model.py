"""The registered model: an MLflow pyfunc that takes raw records (the request schema's columns, schema.py)
and answers the probability of default. Its feature code travels with it (`code_paths`: this package), so
`mlflow models serve`, Azure ML's no-code MLflow deployment and this project's service score the same
artifact, and nothing outside it needs to know the model's 25 engineered inputs.

Plug in your own model here: `CreditModel` wraps an XGBoost booster; another model type needs only a
`load_context` and a `predict` of raw records. The service's compiled path (compiled.py) applies to
tree ensembles that treelite reads and is derived from this artifact at training; any other model is
served as this pyfunc (scorer.py).
"""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from . import compiled as compiled_code
from . import features
from .schema import FEATURE_NAMES, FEATURES, SCORE

# Names of the model's artifacts (folders under the MLflow model's `artifacts/`).
BOOSTER_ARTIFACT = "booster"
BOOSTER_FILE = "booster.ubj"
# Where the model sits in its training run's artifacts.
LOGGED_FOLDER = "model"
# MLflow's column types for the schema's Python types.
MLFLOW_TYPES = {int: "long", float: "double", str: "string"}
PACKAGE = Path(__file__).resolve().parent


def signature() -> ModelSignature:
    """Raw records in, the probability out: what `mlflow models serve` checks a request against."""
    inputs = Schema([ColSpec(MLFLOW_TYPES[column.dtype], column.name) for column in FEATURES])
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("double", SCORE.name)]))


class CreditModel(mlflow.pyfunc.PythonModel):
    """Probability of default of raw records: features.build, then the booster."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        import xgboost as xgb

        self.booster = xgb.Booster()
        self.booster.load_model(context.artifacts[BOOSTER_ARTIFACT])
        # One thread: on a few rows XGBoost's threads only contend for the cores; services scale out instead.
        self.booster.set_param({"nthread": 1})

    def predict(
        self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame, params: Any = None
    ) -> np.ndarray:
        """One probability per record: an array, which MLflow's scoring server answers as a plain list
        (`{"predictions": [0.07, ...]}`), as the service's /invocations does."""
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        if missing := [name for name in FEATURE_NAMES if name not in frame.columns]:
            raise ValueError(f"records lack the columns {missing}")
        inputs = features.build(frame[list(FEATURE_NAMES)]).to_numpy()
        return self.booster.inplace_predict(inputs).astype(np.float64)


def options(booster_file: Path, example: pd.DataFrame, compiled: Path | None) -> dict[str, Any]:
    """What saving and logging the model take alike."""
    artifacts = {BOOSTER_ARTIFACT: str(booster_file)}
    if compiled is not None:
        if compiled.name != compiled_code.ARTIFACT:
            raise ValueError(
                f"{compiled}: MLflow keeps a folder under its name, the service looks for "
                f"{compiled_code.ARTIFACT}"
            )
        artifacts[compiled_code.ARTIFACT] = str(compiled)
    return {
        "python_model": CreditModel(),
        "artifacts": artifacts,
        "code_paths": [str(PACKAGE)],
        "signature": signature(),
        "input_example": example[list(FEATURE_NAMES)],
        # Named, not inferred: inference loads the model in a subprocess and takes seconds.
        "pip_requirements": [f"{name}=={version(name)}" for name in ("mlflow", "xgboost", "pandas", "numpy")],
    }


def save(target: Path, booster_file: Path, example: pd.DataFrame, compiled: Path | None = None) -> Path:
    """The model as a local MLflow folder: the layout the registry stores and the image copies."""
    mlflow.pyfunc.save_model(str(target), **options(booster_file, example, compiled))
    return target


def log(booster_file: Path, example: pd.DataFrame, compiled: Path | None, work: Path) -> str:
    """The model logged to the active MLflow run as the folder `save` writes; returns its runs:/ URI.

    Not `mlflow.pyfunc.log_model`: from MLflow 3 it first creates a "logged model", an endpoint Azure ML's
    tracking server does not have (404 on /api/2.0/mlflow/logged-models, Azure/azure-sdk-for-python#44896;
    Azure ML's own examples log the saved folder instead, Azure/azureml-examples#3885). A runs:/ folder that
    holds an MLmodel file registers without a logged model (mlflow.register_model).
    """
    folder = save(work / LOGGED_FOLDER, booster_file, example, compiled)
    mlflow.log_artifacts(str(folder), artifact_path=LOGGED_FOLDER)
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log() needs an active MLflow run")
    return f"runs:/{run.info.run_id}/{LOGGED_FOLDER}"
