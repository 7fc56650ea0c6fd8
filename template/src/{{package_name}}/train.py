"""Training: an XGBoost classifier, tracked in MLflow with its params, metrics, signature and data version,
logged as the pyfunc model of model.py with its compiled path (tree_code.py) when it qualifies."""

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import train_test_split

from . import compiled, data, features, tree_code
from . import model as registered_model
from .device import training_device
from .evaluate import classification_metrics
from .schema import LABEL
from .settings import GPU_TRAINING, PROJECT, SEED, TEAM, TRAIN_THREADS, Paths
from .snapshots import snapshot_of

log = logging.getLogger(__name__)

HYPERPARAMETERS = {
    # At most: early stopping picks the number of trees (`tree_count`).
    "n_estimators": 500,
    "max_depth": 4,
    "learning_rate": 0.05,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "tree_method": "hist",
    "random_state": SEED,
    "n_jobs": TRAIN_THREADS,
}
# Boosting stops once this many rounds in a row have not lowered the log loss on the validation split.
EARLY_STOPPING_ROUNDS = 20
VALIDATION_SIZE = 0.2


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_uri: str
    data_version: str
    # The labelled snapshot trained on (snapshots.py), or "pinned".
    data_snapshot: str
    device: str
    seconds: float
    metrics: dict[str, float]
    scorer: str


def experiment_id(paths: Paths) -> str:
    mlflow.set_tracking_uri(paths.tracking_uri)
    experiment = mlflow.get_experiment_by_name(PROJECT)
    if experiment is not None:
        return experiment.experiment_id
    # A local store keeps artifacts in the project; a workspace's tracking server chooses its own place.
    local = paths.tracking_uri.startswith(("sqlite:", "file:"))
    location = paths.mlflow_artifacts.resolve().as_uri() if local else None
    return mlflow.create_experiment(PROJECT, artifact_location=location)


def tree_count(train: pd.DataFrame, device: str, hyperparameters: dict) -> int:
    """The number of trees with the lowest log loss on a validation split held out of `train`. Trees past
    it fit the noise of the training rows (on the sample: 79 trees score a higher test AUC than 200), and
    every tree costs the scoring service time on every request."""
    fitting, validation = train_test_split(
        train, test_size=VALIDATION_SIZE, random_state=SEED, stratify=train[LABEL.name]
    )
    probe = xgb.XGBClassifier(
        **hyperparameters, device=device, eval_metric="logloss", early_stopping_rounds=EARLY_STOPPING_ROUNDS
    )
    probe.fit(
        features.build(fitting),
        fitting[LABEL.name],
        eval_set=[(features.build(validation), validation[LABEL.name])],
        verbose=False,
    )
    return probe.best_iteration + 1


def fit(train: pd.DataFrame, device: str, hyperparameters: dict | None = None) -> xgb.XGBClassifier:
    """The model on all of `train`, with as many trees as early stopping chose on part of it."""
    chosen = dict(hyperparameters or HYPERPARAMETERS)
    chosen["n_estimators"] = tree_count(train, device, chosen)
    model = xgb.XGBClassifier(**chosen, device=device, eval_metric="logloss")
    model.fit(features.build(train), train[LABEL.name])
    return model


def train(paths: Paths, gpu_requested: bool = GPU_TRAINING) -> TrainResult:
    frame = data.load(paths.data)
    version = data.data_version(paths.data)
    snapshot = snapshot_of(paths.data)
    log.info("training on %s (snapshot %s, md5 %s)", paths.data, snapshot, version)
    split = data.split(frame)
    device = training_device(gpu_requested)

    with mlflow.start_run(experiment_id=experiment_id(paths)) as run:
        started = time.perf_counter()
        model = fit(split.train, device)
        seconds = time.perf_counter() - started
        test_inputs = features.build(split.test)
        metrics = classification_metrics(split.test[LABEL.name], model.predict_proba(test_inputs)[:, 1])

        mlflow.log_params(
            {
                **HYPERPARAMETERS,
                "max_estimators": HYPERPARAMETERS["n_estimators"],
                "n_estimators": model.n_estimators,
                "early_stopping_rounds": EARLY_STOPPING_ROUNDS,
                "device": device,
                "gpu_requested": gpu_requested,
            }
        )
        mlflow.log_metrics({**metrics, "train_seconds": seconds})
        mlflow.set_tags(
            {
                "data_version": version,
                "data_snapshot": snapshot,
                "data_path": str(paths.data),
                "team": TEAM,
                "rows": len(frame),
            }
        )
        with tempfile.TemporaryDirectory(prefix="model-") as work:
            model_uri, scorer = log_model(model.get_booster(), split.test.head(3), Path(work))
        mlflow.set_tag("scorer", scorer)
    log.info("trained on %s in %.1f s, run %s", device, seconds, run.info.run_id)
    return TrainResult(
        run.info.run_id, model_uri, version, snapshot, device, round(seconds, 3), metrics, scorer
    )


def model_parts(booster: xgb.Booster, example: pd.DataFrame, work: Path) -> tuple[Path, Path | None]:
    """The booster's file and the compiled path where the model qualifies, checked against the pyfunc
    as it will be registered (saved in `work` without them first)."""
    booster_file = work / registered_model.BOOSTER_FILE
    booster.save_model(booster_file)
    saved = registered_model.save(work / "saved", booster_file, example)
    return booster_file, tree_code.derive(booster, saved, work / compiled.ARTIFACT)


def log_model(booster: xgb.Booster, example: pd.DataFrame, work: Path) -> tuple[str, str]:
    """The pyfunc model logged to the active run: its URI, and which scorer the service will choose."""
    booster_file, code = model_parts(booster, example, work)
    return registered_model.log(booster_file, example, code, work), "generic" if code is None else "compiled"


def save_model(booster: xgb.Booster, example: pd.DataFrame, target: Path) -> Path:
    """The model folder that `log_model` would register, saved at `target` (tests, the benchmark)."""
    with tempfile.TemporaryDirectory(prefix="model-") as work:
        booster_file, code = model_parts(booster, example, Path(work))
        return registered_model.save(target, booster_file, example, code)
