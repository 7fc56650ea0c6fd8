"""Champion/challenger in the MLflow model registry.

The challenger is registered only if its gated metric, on the same held-out split, is at least the
champion's minus the tolerance. It then carries the tag role=champion, the former champion role=previous
(a rollback is two tag writes) and the one before role=retired.

Only operations Azure ML's MLflow registry answers: registering from a run's folder, reading and searching
versions by name, and version tags (learn.microsoft.com/azure/machine-learning/how-to-manage-models-mlflow).
Not aliases, which that registry's support matrix does not list, and not MLflow 3's logged models, which its
tracking server answers with 404 (Azure/azure-sdk-for-python#44896); the project's tests run against a
tracking server that refuses both (tests/azure_ml_tracking.py).
"""

from dataclasses import dataclass

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from . import inference
from .evaluate import classification_metrics
from .schema import LABEL
from .settings import CHAMPION, CHAMPION_TOLERANCE, MODEL_NAME, PREVIOUS, QUALITY_METRIC, RETIRED, ROLE_TAG


@dataclass(frozen=True)
class Decision:
    registered: bool
    version: str | None
    challenger_metric: float
    champion_metric: float | None
    champion_version: str | None
    reason: str


def version_with_role(client: MlflowClient, role: str, name: str = MODEL_NAME) -> str | None:
    """The newest version tagged with `role`; None when none is (or the model is not registered yet)."""
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException:
        return None
    tagged = [int(v.version) for v in versions if (v.tags or {}).get(ROLE_TAG) == role]
    return str(max(tagged)) if tagged else None


def champion_version(client: MlflowClient, name: str = MODEL_NAME) -> str | None:
    return version_with_role(client, CHAMPION, name)


def champion_uri(client: MlflowClient, name: str = MODEL_NAME) -> str | None:
    version = champion_version(client, name)
    return None if version is None else f"models:/{name}/{version}"


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
    champion_metric = score(f"models:/{name}/{current}", test) if current else None
    challenger_metric = score(model_uri, test)
    accepted, reason = decide(challenger_metric, champion_metric)
    if not accepted:
        return Decision(False, None, challenger_metric, champion_metric, current, reason)

    version = str(mlflow.register_model(model_uri, name, tags=tags).version)
    promote(client, version, name)
    return Decision(True, version, challenger_metric, champion_metric, current, reason)


def promote(client: MlflowClient, version: str, name: str = MODEL_NAME) -> None:
    """`version` becomes the champion, the champion before it the previous one, and that one retires."""
    champion, previous = champion_version(client, name), version_with_role(client, PREVIOUS, name)
    if previous and previous != version:
        client.set_model_version_tag(name, previous, ROLE_TAG, RETIRED)
    if champion and champion != version:
        client.set_model_version_tag(name, champion, ROLE_TAG, PREVIOUS)
    client.set_model_version_tag(name, version, ROLE_TAG, CHAMPION)
