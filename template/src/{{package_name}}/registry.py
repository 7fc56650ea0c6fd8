"""Champion/challenger in the MLflow model registry.

The challenger is registered only if its gated metric, on the same held-out split, is at least the
champion's minus the tolerance. It then takes the `champion` alias and the former champion keeps `previous`,
so a rollback is one alias move.
"""

from dataclasses import dataclass

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from . import inference
from .evaluate import classification_metrics
from .schema import LABEL
from .settings import CHAMPION_ALIAS, CHAMPION_TOLERANCE, MODEL_NAME, PREVIOUS_ALIAS, QUALITY_METRIC


@dataclass(frozen=True)
class Decision:
    registered: bool
    version: str | None
    challenger_metric: float
    champion_metric: float | None
    champion_version: str | None
    reason: str


def champion_version(client: MlflowClient, name: str = MODEL_NAME) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except MlflowException:
        return None


def score(model_uri: str, test: pd.DataFrame) -> float:
    probabilities = inference.predict(inference.load(model_uri), test)
    return classification_metrics(test[LABEL.name], probabilities)[QUALITY_METRIC]


def decide(
    challenger: float, champion: float | None, tolerance: float = CHAMPION_TOLERANCE
) -> tuple[bool, str]:
    if champion is None:
        return True, "no champion yet"
    if challenger >= champion - tolerance:
        return True, f"challenger {challenger:.4f} >= champion {champion:.4f} - {tolerance}"
    return False, f"challenger {challenger:.4f} < champion {champion:.4f} - {tolerance}"


def register(model_uri: str, test: pd.DataFrame, tags: dict[str, str], name: str = MODEL_NAME) -> Decision:
    client = MlflowClient()
    current = champion_version(client, name)
    champion_metric = score(f"models:/{name}@{CHAMPION_ALIAS}", test) if current else None
    challenger_metric = score(model_uri, test)
    accepted, reason = decide(challenger_metric, champion_metric)
    if not accepted:
        return Decision(False, None, challenger_metric, champion_metric, current, reason)

    version = mlflow.register_model(model_uri, name, tags=tags).version
    if current:
        client.set_registered_model_alias(name, PREVIOUS_ALIAS, current)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
    return Decision(True, str(version), challenger_metric, champion_metric, current, reason)
