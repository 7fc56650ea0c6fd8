"""The local pipeline, one function per step. Steps hand over through JSON files in the artifacts folder,
so each runs alone (one `make` target, one CI step) once the steps before it have run somewhere.

Each step imports what it uses inside its function: every `make` target starts a fresh interpreter, and
MLflow, pandera and scikit-learn take seconds to import that the light steps need not pay.
"""

import json
import os
import subprocess
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import StepFailed

if TYPE_CHECKING:
    import pandas as pd
from .settings import (
    CHAMPION,
    DRIFT,
    DRIFT_MIN_RECORDS,
    DRIFT_WINDOW_DAYS,
    INSUFFICIENT_DATA,
    MODEL_NAME,
    PSI_THRESHOLD,
    RETRAIN_DIR,
    STABLE,
    STEP_FILES,
    Paths,
)


def write(paths: Paths, step: str, content: dict) -> Path:
    paths.artifacts.mkdir(parents=True, exist_ok=True)
    target = paths.artifacts / STEP_FILES[step]
    target.write_text(json.dumps(content, indent=2) + "\n")
    return target


def read(paths: Paths, step: str) -> dict:
    source = paths.artifacts / STEP_FILES[step]
    if not source.exists():
        raise StepFailed(f"{source} is missing: run `make {step}` first")
    return json.loads(source.read_text())


def source_commit() -> str:
    """Azure Pipelines names the commit; locally ask git, and say so when there is none."""
    if commit := os.environ.get("BUILD_SOURCEVERSION"):
        return commit
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "uncommitted"
    return result.stdout.strip()


def validate(paths: Paths) -> dict:
    from . import data

    frame = data.load(paths.data)
    content = {"path": str(paths.data), "version": data.data_version(paths.data), **data.profile(frame)}
    write(paths, "validate", content)
    return content


def train(paths: Paths) -> dict:
    from .train import train as train_model

    content = asdict(train_model(paths))
    write(paths, "train", content)
    return content


def evaluate(paths: Paths) -> dict:
    import mlflow

    from . import data, inference, scorer
    from .evaluate import evaluate as evaluate_model

    training = read(paths, "train")
    mlflow.set_tracking_uri(paths.tracking_uri)
    model = inference.load(training["model_uri"])
    served = partial(scorer.of_frame, scorer.load(training["model_uri"]))
    result = evaluate_model(partial(inference.predict, model), data.split(data.load(paths.data)).test, served)
    content = {
        "metrics": result.metrics,
        "approval_rates": result.approval_rates,
        "gates": [asdict(gate) for gate in result.gates],
        "passed": result.passed,
    }
    with mlflow.start_run(run_id=training["run_id"]):
        mlflow.log_metrics({f"gate_{index}": float(gate.passed) for index, gate in enumerate(result.gates)})
    write(paths, "evaluate", content)
    if not result.passed:
        raise StepFailed("quality gates failed:\n  " + "\n  ".join(gate.reason for gate in result.gates))
    return content


def register(paths: Paths) -> dict:
    import mlflow

    from . import data, registry

    training = read(paths, "train")
    if not read(paths, "evaluate")["passed"]:
        raise StepFailed("the model failed its gates: nothing to register")
    mlflow.set_tracking_uri(paths.tracking_uri)
    tags = {
        "source_commit": source_commit(),
        "data_version": training["data_version"],
        "data_snapshot": training["data_snapshot"],
        "run_id": training["run_id"],
        **{f"metric_{name}": f"{value:.4f}" for name, value in training["metrics"].items()},
    }
    decision = registry.register(training["model_uri"], data.split(data.load(paths.data)).test, tags)
    content = asdict(decision)
    write(paths, "register", content)
    return content


def retrain(paths: Paths) -> dict:
    """The offline loop's retraining: the same steps, gates and champion/challenger on the newest labelled
    snapshot in `paths.labelled`, their results in artifacts/retrain/ (the first training's stay)."""
    from .snapshots import PINNED, training_data

    chosen = training_data(paths.labelled, paths.data)
    if chosen.snapshot == PINNED:
        raise StepFailed(f"no labelled snapshot in {paths.labelled}: nothing new to retrain on")
    again = replace(paths, data=chosen.path, artifacts=paths.artifacts / RETRAIN_DIR)
    for step in (validate, train, evaluate, register, card):
        step(again)
    return read(again, "register")


def card(paths: Paths) -> dict:
    from . import model_card

    registration = paths.artifacts / STEP_FILES["register"]
    text = model_card.render(
        read(paths, "validate"),
        read(paths, "train"),
        read(paths, "evaluate"),
        json.loads(registration.read_text()) if registration.exists() else None,
    )
    target = paths.artifacts / STEP_FILES["card"]
    target.write_text(text)
    return {"path": str(target)}


def current_records(current: Path, window_days: int) -> "pd.DataFrame":
    """A CSV of records, or a folder of inference data in the data collector's layout: its last window, with
    the probability the service answered as the prediction column."""
    import datetime

    import pandas as pd

    from . import inference_data
    from .schema import SCORE
    from .settings import PREDICTION_FEATURE, InferenceDataSettings

    if current.is_dir():
        where = InferenceDataSettings.from_env()
        now = datetime.datetime.now(datetime.UTC)
        rows, scored = inference_data.read_window(current, where.endpoint, where.deployment, window_days, now)
        frame = pd.DataFrame(rows)
        if rows:
            frame[PREDICTION_FEATURE] = [answer[SCORE.name] for answer in scored]
        return frame
    if not current.exists():
        raise StepFailed(f"no current records at {current}")
    return pd.read_csv(current)


def drift_model(paths: Paths) -> tuple[str, str]:
    """The model whose predictions are compared: MODEL_URI, else the registry's champion (uri, version)."""
    if uri := os.environ.get("MODEL_URI"):
        return uri, os.environ.get("MODEL_VERSION", "")
    import mlflow
    from mlflow import MlflowClient

    from .registry import champion_version

    mlflow.set_tracking_uri(paths.tracking_uri)
    version = champion_version(MlflowClient())
    if version is None:
        raise StepFailed(f"no {CHAMPION} of {MODEL_NAME} in the registry to compare predictions with")
    return f"models:/{MODEL_NAME}/{version}", version


def drift_reference(paths: Paths, target: Path) -> dict:
    """The champion's predictions on the training data, for a drift check that cannot reach the registry."""
    from . import data, scorer

    model_uri, model_version = drift_model(paths)
    predictions = scorer.of_frame(scorer.load(model_uri), data.load(paths.data))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"model_version": model_version, "predictions": predictions}))
    return {"path": str(target), "model_version": model_version, "records": len(predictions)}


def check_drift(
    paths: Paths,
    current: Path,
    fail_on_drift: bool,
    window_days: int = DRIFT_WINDOW_DAYS,
    reference_predictions: Path | None = None,
) -> dict:
    """PSI of every feature and of the prediction, over the current records against the training data.
    Three outcomes: DRIFT (retrain), STABLE, INSUFFICIENT_DATA (fewer than DRIFT_MIN_RECORDS: notify, never
    retrain). Writes drift.json, the report (artifacts/drift/), and tells Application Insights where set."""
    import pandera.errors

    from . import data, drift, drift_report, scorer
    from .settings import PREDICTION_FEATURE
    from .tables import FEATURE_SCHEMA

    records = current_records(current, window_days)
    if reference_predictions is not None:
        handed = json.loads(reference_predictions.read_text())
        model_uri, model_version = None, handed["model_version"]
    else:
        (model_uri, model_version), handed = drift_model(paths), None
    content: dict = {
        "current": str(current),
        "window_days": window_days,
        "records": len(records),
        "model_version": model_version,
        "threshold": PSI_THRESHOLD,
        "psi": {},
        "drifted": [],
    }
    if len(records) < DRIFT_MIN_RECORDS:
        content["outcome"] = INSUFFICIENT_DATA
        content["reason"] = f"{len(records)} records in the window, fewer than {DRIFT_MIN_RECORDS}"
    else:
        try:
            FEATURE_SCHEMA.validate(records, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            raise StepFailed(f"current records break the feature schema:\n{errors.failure_cases}") from None
        reference = data.load(paths.data)
        served = scorer.load(model_uri) if model_uri else None
        predicted = handed["predictions"] if handed else scorer.of_frame(served, reference)
        if len(predicted) != len(reference):
            raise StepFailed(
                "the reference predictions are not those of the training data: run drift-reference"
            )
        reference = reference.assign(**{PREDICTION_FEATURE: predicted})
        if PREDICTION_FEATURE not in records:
            if served is None:
                raise StepFailed(
                    "current records without predictions need the model: run without --reference"
                )
            records = records.assign(**{PREDICTION_FEATURE: scorer.of_frame(served, records)})
        result = drift.report(reference, records, extra=(PREDICTION_FEATURE,))
        heading = f"Drift of {MODEL_NAME} version {model_version or '?'}: {len(records)} records"
        report = drift_report.write(paths.artifacts / "drift", reference, records, result, heading)
        content.update(
            psi=result.psi,
            drifted=result.drifted,
            outcome=DRIFT if result.drifted else STABLE,
            report=str(report),
            charts=[str(report.parent / f"{name}.png") for name in result.drifted],
        )
    write(paths, "drift", content)
    if connection_string := os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        from . import drift_telemetry

        drift_telemetry.to_application_insights(content, model_version, connection_string)
    if fail_on_drift and content["drifted"]:
        lines = [f"{name}: PSI {content['psi'][name]} > {PSI_THRESHOLD}" for name in content["drifted"]]
        raise StepFailed("drift over the threshold:\n  " + "\n  ".join(lines))
    return content


def score_stream(paths: Paths, phases: dict[str, Path], folder: Path) -> dict:
    """The offline production loop's traffic: the registered model served, each phase's records scored."""
    import pandas as pd

    from . import stream

    model_uri, _ = drift_model(paths)
    content = stream.run(model_uri, {name: pd.read_csv(path) for name, path in phases.items()}, folder)
    write(paths, "stream", content)
    return content


def drift_days(window_days: int) -> list[str]:
    """The day folders (yyyy/MM/dd) of the layout a window of `window_days` up to now touches."""
    import datetime

    today = datetime.datetime.now(datetime.UTC).date()
    return [f"{today - datetime.timedelta(days=back):%Y/%m/%d}" for back in range(window_days, -1, -1)]


def drift_outcome(paths: Paths) -> str:
    """What the last drift check found, for the pipeline: only DRIFT queues retraining, INSUFFICIENT_DATA
    notifies."""
    return str(read(paths, "drift")["outcome"])


def serve_smoke(paths: Paths) -> dict:
    import pandas as pd

    from . import smoke

    registration = paths.artifacts / STEP_FILES["register"]
    decision = json.loads(registration.read_text()) if registration.exists() else {}
    model_uri = (
        f"models:/{MODEL_NAME}/{decision['version']}"
        if decision.get("registered")
        else read(paths, "train")["model_uri"]
    )
    content = smoke.run(model_uri, pd.read_csv(paths.data).head(3))
    write(paths, "smoke", content)
    return content


def champion_version(paths: Paths) -> str:
    """What Build_Image packs when a change needs no training: the registry's current champion."""
    import mlflow
    from mlflow import MlflowClient

    from .registry import champion_version as current

    mlflow.set_tracking_uri(paths.tracking_uri)
    version = current(MlflowClient())
    if version is None:
        raise StepFailed(f"no {CHAMPION} of {MODEL_NAME} in the registry: run the training pipeline")
    return version


def export_model(paths: Paths, version: str, target: Path) -> dict:
    """The registered model's files, for the image build (the Dockerfile copies them)."""
    import mlflow

    if not version:
        raise StepFailed("no model version: pass MODEL_VERSION=<registered version>")
    mlflow.set_tracking_uri(paths.tracking_uri)
    uri = f"models:/{MODEL_NAME}/{version}"
    mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target))
    return {"model_uri": uri, "path": str(target)}


def summary(paths: Paths) -> str:
    """One line per step, in the loop's order; the retraining's lines where it ran."""
    rows = []
    retrained = paths.artifacts / RETRAIN_DIR
    phases = [(paths.artifacts, "", ("validate", "train", "evaluate", "register", "stream", "drift"))]
    if retrained.is_dir():
        phases.append((retrained, "retrain ", ("validate", "train", "evaluate", "register")))
    phases.append((paths.artifacts, "", ("smoke",)))
    for folder, label, steps in phases:
        for step in steps:
            source = folder / STEP_FILES[step]
            content = json.loads(source.read_text()) if source.exists() else None
            rows.append((f"{label}{step}", describe(step, content)))
    width = max(len(step) for step, _ in rows)
    return "\n".join(f"{step:<{width}}  {text}" for step, text in rows)


def describe(step: str, content: dict | None) -> str:
    if content is None:
        return "not run"
    match step:
        case "validate":
            rows, rate = content["rows"], content["default_rate"]
            return f"{rows} rows, default rate {rate}, data version {content['version'][:12]}"
        case "train":
            metrics = ", ".join(f"{k} {v:.3f}" for k, v in content["metrics"].items())
            served = f"served by the {content['scorer']} path"
            data = f"snapshot {content['data_snapshot']} (md5 {content['data_version'][:12]})"
            return f"{data} on {content['device']} in {content['seconds']} s, {served}: {metrics}"
        case "evaluate":
            failed = [gate["name"] for gate in content["gates"] if not gate["passed"]]
            return "all gates passed" if not failed else "FAILED: " + ", ".join(failed)
        case "register":
            outcome = f"version {content['version']}" if content["registered"] else "kept the champion"
            return f"{outcome} ({content['reason']})"
        case "drift":
            if content["outcome"] == INSUFFICIENT_DATA:
                return f"{INSUFFICIENT_DATA}: {content['reason']} (notify, no retraining)"
            drifted = ", ".join(content["drifted"]) or "none"
            where = f"{content['records']} records of {content['current']}"
            charts = f"; report {content['report']}" if content.get("report") else ""
            return f"{content['outcome']} over {where}: over PSI {content['threshold']}: {drifted}{charts}"
        case "smoke":
            return f"{len(content['scored'])} records scored by {content['url']}"
        case "stream":
            from .stream import describe as stream_describe

            return stream_describe(content)
    return json.dumps(content)
